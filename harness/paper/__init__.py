"""The report side: its published claims, and the tables and figures rebuilt from the store."""
