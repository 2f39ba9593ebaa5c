"""Webhooks for partner sites: endpoints, the events they follow, signed deliveries."""
