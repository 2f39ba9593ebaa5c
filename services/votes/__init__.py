"""Votes domain."""
