"""GraphQL of accounts and sessions."""
