"""Newsletters: composition, rendering and delivery (issue 6)."""
