"""The refdesk gateway: the only thing browsers talk to (besides the analytics
reporting API).

It serves the staff dashboard, the patron chat page and the embeddable widget, the
small HTTP API (sign-in, departments, a patron's new chat, health) and the websocket
protocol of ``docs/protocol.md``. It keeps nothing durable: every decision about chats
is asked of the services over NATS, and their events are fanned out to the sockets of
this process.

Modules, one concept each:

* ``server`` — runs uvicorn in-process (``serve``); ``__main__`` — ``python -m gateway``;
* ``app`` — the FastAPI application, its lifespan, static mounts and ``/ws``;
* ``api`` — the HTTP API; ``security`` — Content-Security-Policy and friends;
* ``frames`` — client frame models and server frame builders; ``errors`` — readable
  sentences for validation problems;
* ``connection`` — one socket's state machine and bounded outgoing queue;
* ``registry`` — who receives what (pure); ``hub`` — the NATS subscriptions feeding it;
* ``policy`` — authorisation rules and Reference Analytics prefill (pure);
* ``session`` — a signed-in socket and typed service calls; ``handlers`` — one
  function per client frame type.
"""
