"""Search: the search port and its engines (issue 5)."""
