"""Demo tickets (``settings.demo_seed``): a few questions in the demo departments
(ids and names as in :mod:`services.queue.seed`), so the Tickets tab has something
to show. Idempotent (fixed ``request_id`` per demo ticket); no email is sent."""

from __future__ import annotations

from typing import Any

from refdesk.ids import new_id

from . import domain
from .store import TicketStore

DEMO_TICKETS: list[dict[str, Any]] = [
    {"request_id": "demo-ticket-reference-1", "department_id": "reference", "department_name": "Reference",
     "patron_name": "Maya Chen", "patron_email": "maya@example.org",
     "question": "Can I get access to the 1920s city council minutes from home? I'm writing about the tramways.",
     "thread": []},
    {"request_id": "demo-ticket-circulation-1", "department_id": "circulation", "department_name": "Circulation",
     "patron_name": "Omar Haddad", "patron_email": "omar@example.org", "status": "Pending",
     "question": "How many times can I renew an interlibrary loan book?",
     "thread": [("reply", "Ana", "Interlibrary loans can usually be renewed once; I have asked the lending "
                                "library about yours and will let you know.")]},
    {"request_id": "demo-ticket-archives-1", "department_id": "archives", "department_name": "Archives",
     "patron_name": "Lena Vogel", "patron_email": None, "status": "Open",
     "question": "Do you hold the photographs of the 1962 flood?",
     "thread": [("internal_note", "Ben", "Patron left no email; the box list is in the flood collection guide.")]},
]


async def apply_demo_seed(store: TicketStore) -> None:
    """Insert each demo ticket whose ``request_id`` is not there yet, with its thread."""
    async with store.transaction() as q:
        for demo in DEMO_TICKETS:
            if await q.ticket_by_request_id(demo["request_id"]) is not None:
                continue
            row = await q.add_ticket(new_id(), {
                "department_id": demo["department_id"], "department_name": demo["department_name"],
                "status": demo.get("status", "New"), "subject": domain.subject_of(demo["question"]),
                "patron_name": demo["patron_name"], "patron_email": demo["patron_email"],
                "question": demo["question"], "request_id": demo["request_id"], "reply_secret": domain.new_secret(),
                "last_message_from": "staff" if any(k == "reply" for k, _, _ in demo["thread"]) else "patron",
            })
            if row is None:
                continue
            await q.add_message(new_id(), row["id"], kind="patron", author=demo["patron_name"], body=demo["question"])
            for kind, author, body in demo["thread"]:
                await q.add_message(new_id(), row["id"], kind=kind, author=author, body=body)
