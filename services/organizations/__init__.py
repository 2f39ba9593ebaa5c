"""Organizations domain."""
