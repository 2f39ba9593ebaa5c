"""GraphQL of themes."""
