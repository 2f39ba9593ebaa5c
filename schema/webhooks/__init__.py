"""Webhooks of partner sites: endpoints, delivery logs, event types."""
