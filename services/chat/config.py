"""Constants and limits of the chat service."""

from __future__ import annotations

from refdesk.contracts import queue

MAX_BODY_CHARS = 4000
"""Longest message body stored, in characters (after trimming)."""

LIFECYCLE_STREAM = queue.STREAM
"""The queue service's event stream, whose chat events become messages."""

LIFECYCLE_SUBJECTS = ["rd.ev.queue.chat.>"]
LIFECYCLE_DURABLE = "chat-lifecycle"


QUESTION_CMID = "ev:question"
"""Client message id of the patron's question, recorded from the ``queued`` event."""

SYSTEM_AUTHOR_NAME = "refdesk"
"""``author_name`` of system messages ("Ana joined the chat.")."""
