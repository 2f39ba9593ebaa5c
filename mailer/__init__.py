"""Newsletters: composition, rendering and delivery."""
