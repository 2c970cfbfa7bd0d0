"""The chat service: the messages of each chat (patron, operator and system) with
per-chat sequence numbers, and the canned messages of each department.

Endpoints and events are described in :mod:`refdesk.contracts.chat`. Chat lifecycle
changes become messages (the patron's question, "Ana joined the chat.", "Maya ended
the chat."): the gateway reports each change on ``rd.chat.lifecycle`` right
after it, and the service also consumes the queue service's events as a backstop.
Recording a transition first records the earlier ones the chat shows, and a send that
carries the chat first records what the chat's state shows, so the transcript's order
never depends on which report arrives first. Once the end is recorded, patron and
operator messages are refused (409).

It also keeps Internal Chat — operators among themselves: an All Staff room, a standing
room per department and direct rooms of two, with per-room seqs and read markers
(:mod:`.internal`, :mod:`.internal_store`, :mod:`.internal_endpoints`).
"""

from pathlib import Path

from refdesk.contracts.chat import SERVICE, STREAM, STREAM_SUBJECTS
from refdesk.service import ServiceSpec

from .endpoints import wire

SPEC = ServiceSpec(
    name=SERVICE,
    schema="chat",
    migrations=Path(__file__).parent / "migrations",
    wire=wire,
    stream=(STREAM, STREAM_SUBJECTS),
)
