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
#: Operator status changes (coverage) and tickets created from chats (outcome ticketed).
STATUS_DURABLE = "analytics-coverage"
STATUS_SUBJECTS = ["rd.ev.queue.operator.*.status"]
TICKETS_DURABLE = "analytics-tickets"
TICKETS_SUBJECTS = ["rd.ev.tickets.ticket.*.created"]

#: Longest date range one report covers, in days (about three years).
MAX_REPORT_DAYS = 1100
#: Default report range when ``from`` is not given: this many days up to ``to``.
DEFAULT_REPORT_DAYS = 30

#: Seconds the reporting API waits for open requests when the service stops.
HTTP_SHUTDOWN_SECONDS = 5

#: What an id in a reporting-API parameter may contain (chat, operator, department,
#: dataset and field ids are all of these characters); anything else is a 422.
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
