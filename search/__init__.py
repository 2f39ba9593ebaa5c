"""Search: the search port and its engines."""
