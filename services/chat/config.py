"""Constants and limits of the chat service."""

from __future__ import annotations

from refdesk.contracts import chat, queue

MAX_BODY_CHARS = chat.MAX_BODY_CHARS
"""Longest message body stored, in characters (after trimming)."""

HISTORY_PAGE_BYTES = chat.HISTORY_PAGE_BYTES
"""Byte budget of the messages of one history page (UTF-8 JSON)."""

LIFECYCLE_STREAM = queue.STREAM
"""The queue service's event stream, whose chat events become messages."""

LIFECYCLE_SUBJECTS = ["rd.ev.queue.chat.>"]
LIFECYCLE_DURABLE = "chat-lifecycle"


QUESTION_CMID = "ev:question"
"""Client message id of the patron's question, recorded for the ``queued`` transition."""

CLAIMED_CMID_PREFIX = "ev:claimed:"
"""Client message ids of "Ana joined the chat." are this prefix + the claim's
``claimed_at`` (UTC ISO-8601): one message per claim."""

ENDED_CMID = "ev:ended"
"""Client message id of "⟨name⟩ ended the chat."; storing it marks the chat ended."""

DISMISSED_CMID = "ev:dismissed"
"""Client message id of the internal "⟨nickname⟩ dismissed the chat. Note: …" record;
storing it marks the chat ended too (a dismissed chat takes no more messages)."""

SCREENSHARE_CMID_PREFIX = "ev:screenshare:"
"""Client message ids of a screenshare decision are this prefix + the request id."""

SYSTEM_AUTHOR_NAME = "refdesk"
"""``author_name`` of system messages ("Ana joined the chat.")."""
