"""Domain layer: Tortoise models and the rules of each concept. Knows neither GraphQL nor HTTP."""
