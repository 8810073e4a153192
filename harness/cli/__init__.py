"""The ``harness`` command."""
