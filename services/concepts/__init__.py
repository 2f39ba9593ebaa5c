"""Concepts domain."""
