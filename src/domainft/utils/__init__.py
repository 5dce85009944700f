"""Small shared helpers (I/O, environment)."""
