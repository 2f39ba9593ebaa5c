"""Operators' entry point: the ``tec`` command."""
