"""Newsletter subscribers: double opt-in with proof of consent, preferences, unsubscribe,
export and erasure."""
