"""GraphQL of events."""
