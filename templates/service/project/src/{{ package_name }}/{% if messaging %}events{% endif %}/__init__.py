"""Messaging: a transactional outbox and its relay, an idempotent notification consumer with
retries and a dead-letter channel, on Kafka or RabbitMQ behind one interface (`transport.py`).

Rooms: `schemas` (the events), `outbox` and `relay` (publishing), `consumer` and
`notifications` (the worker), `retries` (backoff, failure headers), `replay` (the dead-letter
command), `transport` and the broker's own module, `asyncapi`, `stats` and `sampler` (metrics).
"""
