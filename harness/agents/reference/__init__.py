"""The embedded reference agent: a real strategy per task family, no model needed.

``agent.py`` registers the agent (``AGENTS``) and dispatches on the brief's family to the
strategy registered for it (``strategies.STRATEGIES``); each strategy lives in a module
named after its family. This package imports none of them on its own.
"""
