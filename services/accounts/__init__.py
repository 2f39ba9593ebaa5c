"""Accounts, bearer tokens and partner API keys: who may write, and how they prove it."""
