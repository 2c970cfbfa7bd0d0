"""Message contracts shared between refdesk parts: NATS subjects and pydantic models.

One module per owning service (``queue``, ``chat``, ``analytics``, ``tickets``); the
``common`` module holds the error codes and base models; ``mail`` the outgoing-mail
views and status events every sending service shares (:mod:`refdesk.mail`). Parts share these contracts,
never each other's code. Subjects follow ``rd.<service>.<operation>`` for request/reply
endpoints, ``rd.ev.<service>.<entity>.<id>.<event>`` for JetStream events and
``rd.rt.<signal>.<id>`` for ephemeral core-NATS signals.
"""
