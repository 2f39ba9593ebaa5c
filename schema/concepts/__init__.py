"""GraphQL of concepts."""
