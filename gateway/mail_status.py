"""Routing mail status events to the people waiting on them (:mod:`gateway.hub`).

``rd.ev.<service>.mail.<mail_id>.<status>`` (every service's mail outbox,
:mod:`refdesk.mail`) becomes the ``mail.status`` frame: for the operator who asked for
the mail (``requested_by``), on each of their sockets; for a transcript the patron asked
for (``requested_by`` None, ``subject_ref`` ``chat:<id>``), on the patron's sockets
(without ``last_error``: :meth:`~refdesk.contracts.mail.MailView.for_patron`) and on
the operator sockets that have the chat open (so a failure is seen by staff).
"""

from __future__ import annotations

from nats.aio.msg import Msg

from refdesk.contracts.mail import MAIL_EVENTS, MailStatusEvent, MailView

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
        _send(registry.operator_peers([mail.requested_by]), mail)
    elif mail.subject_ref.startswith("chat:"):
        chat_id = mail.subject_ref.removeprefix("chat:")
        _send(registry.patrons(chat_id), mail.for_patron())
        # the operators who have the chat open see the patron's own request too
        _send({feed.peer for feed in registry.feeds(chat_id) if feed.side == "operator"}, mail)


def _send(peers: set, mail: MailView) -> None:
    if peers:
        frame = mail_status(mail)
        for peer in peers:
            peer.send(frame)
