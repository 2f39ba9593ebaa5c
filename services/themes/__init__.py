"""Themes domain."""
