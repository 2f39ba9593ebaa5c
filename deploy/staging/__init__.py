"""The staging run: the production process layout started natively (own PostgreSQL and
Redis, two gateway replicas behind Caddy, the search worker, the mail worker, an SMTP sink),
a mixed load through the load balancer while each component is SIGKILLed and restarted, and
checks that nothing acknowledged was lost. ``make staging``; docs/deploy.md explains it."""
