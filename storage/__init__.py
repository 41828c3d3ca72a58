"""Storage: SQLModel tables, the engine and its sessions, and data functions that never commit."""
