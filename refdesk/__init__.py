"""refdesk shared package: what every service and the gateway need, and nothing else.

Modules: ``settings`` (environment configuration), ``log`` (structlog set-up),
``db`` (asyncpg pool and the migration runner), ``bus`` (NATS connection, micro
endpoints, typed requests, durable consumers), ``outbox`` (events published after
commit), ``auth`` (password hashing and tokens), ``contracts`` (subjects and pydantic
models shared between parts), ``embedded`` (local NATS and PostgreSQL servers) and
``cli`` (the ``refdesk`` command).
"""
