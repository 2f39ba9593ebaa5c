"""GraphQL of territories."""
