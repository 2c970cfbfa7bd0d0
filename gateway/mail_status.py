"""Routing mail status events to the people waiting on them (:mod:`gateway.hub`).

``rd.ev.<service>.mail.<mail_id>.<status>`` (every service's mail outbox,
:mod:`refdesk.mail`) becomes the ``mail.status`` frame: for the operator who asked for
the mail (``requested_by``), on each of their sockets; for a transcript the patron asked
for (``requested_by`` None, ``subject_ref`` ``chat:<id>``), on the patron's sockets.
"""

from __future__ import annotations

from nats.aio.msg import Msg

from refdesk.contracts.mail import MAIL_EVENTS, MailStatusEvent

from .frames_transcript import mail_status
from .registry import Registry

SUBJECT = MAIL_EVENTS
"""What the hub subscribes to: ``rd.ev.*.mail.>``."""


def route(registry: Registry, msg: Msg) -> None:
    """Send ``mail.status`` for one mail status event to whoever asked for the mail
    (nobody connected: nothing is sent; the status stays readable with
    ``transcript.mails``)."""
    event = MailStatusEvent.model_validate_json(msg.data)
    mail = event.mail
    if mail.requested_by:
        peers = registry.operator_peers([mail.requested_by])
    elif mail.subject_ref.startswith("chat:"):
        peers = registry.patrons(mail.subject_ref.removeprefix("chat:"))
    else:
        return
    if peers:
        frame = mail_status(mail)
        for peer in peers:
            peer.send(frame)
