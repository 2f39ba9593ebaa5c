"""GraphQL of resources."""
