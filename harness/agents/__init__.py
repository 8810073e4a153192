"""Agents act only through the runtime's agent port (harness.runtime.port).

Agents register in ``harness.agents.registry.AGENTS`` (found by a folder scan); this
package imports none of them, so importing it registers nothing.
"""
