"""GraphQL of search: the `search` query, the index status, synonyms, tenant tokens."""
