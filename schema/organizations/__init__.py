"""GraphQL of organizations."""
