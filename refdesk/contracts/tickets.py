"""Contracts of the tickets service (schema and health only for now).

The service registers as ``nats.micro`` service ``tickets``; ``$SRV.PING.tickets``
answers while it runs, and ``rd.tickets.health`` replies :class:`~refdesk.contracts.common.Ok`.
"""

SERVICE = "tickets"
HEALTH = "rd.tickets.health"
