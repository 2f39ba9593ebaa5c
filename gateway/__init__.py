"""Everything that speaks HTTP or WebSocket: the app factory, authentication, the guard
pipeline every GraphQL operation passes whatever its transport, rate limits, the public
response cache, persisted queries, metrics, the IDE, feeds and newsletter pages.

``schema`` below it knows GraphQL only: no request, no socket, no header."""
