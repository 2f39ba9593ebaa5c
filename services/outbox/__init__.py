"""Transactional outbox: changes the search index (and others) must apply."""
