"""Audit log of every write."""
