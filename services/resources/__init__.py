"""Resources domain."""
