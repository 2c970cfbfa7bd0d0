"""Request handlers of the analytics service and its wiring: endpoints, the event
consumers and the HTTP reporting API."""

from __future__ import annotations

from refdesk.service import Context

from . import facts_wire, http, ra_endpoints
from .facts_store import FactsStore
from .ra_store import RaStore
from .store import AnalyticsStore


async def wire(ctx: Context) -> None:
    """Ensure the default dataset exists, register the endpoints, start the chat-facts
    consumers (:mod:`.facts_wire`) and the HTTP reporting API on ``analytics_host:analytics_port``.

    Raises:
        OSError: the reporting API's address cannot be bound.
    """
    store = AnalyticsStore(ctx.pool)
    await ra_endpoints.wire(ctx.endpoints, RaStore(ctx.pool), store.chat_department)

    facts = FactsStore(ctx.pool)
    facts_wire.start_consumers(ctx, facts)

    sock = http.bind(ctx.settings.analytics_host, ctx.settings.analytics_port)
    ctx.background(http.serve(http.create_app(
        ctx.pool, ctx.settings, profiles=facts_wire.operator_lookup(ctx), rebuild=facts_wire.rebuilder(ctx, facts),
    ), sock, ctx.stop), name="analytics-http")
