"""Subscribers in GraphQL: subscribing, confirming, preferences, export and erasure."""
