"""Demo domain."""
