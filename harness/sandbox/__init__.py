"""Confinement: a subprocess in a throwaway root with namespaces and resource limits.

Below ``harness.world`` in the layering (it needs only ``harness.core``): the world's test
runners use it for workspace code, and the outside-agent host for an agent's own code.
``box`` is the sandbox itself, ``process`` a long-lived sandboxed process spoken to over
pipes, ``child`` that process's inside half (copied into the sandbox, stdlib only).
"""
