"""Conditions, the episode loop, the runner and its executors."""
