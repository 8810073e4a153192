"""Task families, one module each, named after the family (``join_pitfalls.py`` holds
``data_analysis/join_pitfalls``), beside the modules they share (``*_common``,
``rename_*``). ``harness.workload.registry.FAMILIES`` finds them by importing every module
here; nothing imports a family to register it."""
