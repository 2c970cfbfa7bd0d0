"""Constants and limits of the analytics service."""

from __future__ import annotations

#: Longest text accepted in a Reference Analytics ``text`` field, in characters.
MAX_TEXT_CHARS = 4000

#: Rows returned by the reporting API when the caller gives no ``limit``, and the most
#: it may ask for.
DEFAULT_LIST_LIMIT = 100
MAX_LIST_LIMIT = 500

#: Durable consumers: chat lifecycle events (wait time, duration) and chat messages
#: (first response time, message count).
FACTS_DURABLE = "analytics-facts"
FACTS_SUBJECTS = ["rd.ev.queue.chat.>"]
MESSAGES_DURABLE = "analytics-messages"
MESSAGES_SUBJECTS = ["rd.ev.chat.msg.>"]

#: Seconds the reporting API waits for open requests when the service stops.
HTTP_SHUTDOWN_SECONDS = 5
