"""Newsletters in GraphQL: issues, composition, previews, scheduling; and their web pages."""
