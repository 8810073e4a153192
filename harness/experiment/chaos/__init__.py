"""Table 3: real worker processes, SIGKILLs, heartbeat detection and recovery.

``diskworld`` (a session's world on disk), ``soak`` (a deterministic long-session agent),
``worker`` (one process running a task's sessions under the durable execution layer),
``schedule`` (the seeded kill schedule), ``supervisor`` (spawns, kills, detects, restarts)
and ``table3`` (config, fault-free reference, verification, results rows).
"""
