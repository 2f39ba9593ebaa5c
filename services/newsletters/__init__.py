"""Newsletter issues and templates, their editorial items, freezing and the delivery queue."""
