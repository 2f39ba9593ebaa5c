"""Territories domain."""
