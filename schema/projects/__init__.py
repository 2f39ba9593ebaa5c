"""GraphQL of projects."""
