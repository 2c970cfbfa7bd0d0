"""Demo canned messages for the demo departments (``reference``, ``circulation``,
``archives``), applied idempotently when ``RD_DEMO_SEED`` is true."""

from __future__ import annotations

from refdesk.contracts.chat import CannedMessage

from .store import ChatStore

_CHECKING = "One moment while I check that for you…"
_ANYTHING_ELSE = "Is there anything else I can help you with today?"

# department id → (title, body) pairs in display order; the first is the welcome.
_TEXTS: dict[str, list[tuple[str, str]]] = {
    "reference": [
        ("Welcome", "Hi, thanks for your question! I'm reading over it now and will be with you in a moment."),
        ("One moment", _CHECKING),
        ("Citation help",
         "Our citation guides cover APA, MLA and Chicago style; I can send you the link to the one you need."),
        ("Anything else", _ANYTHING_ELSE),
    ],
    "circulation": [
        ("Welcome", "Hi, thanks for getting in touch with Circulation! I'm looking at your question and will be "
                    "right with you."),
        ("Checking your account", "One moment while I check your account…"),
        ("Renewals and fines",
         "You can renew most items yourself from \"My Account\" in the catalogue, unless someone has placed a hold. "
         "Overdue fines stop growing as soon as the item is renewed or returned."),
        ("Anything else", _ANYTHING_ELSE),
    ],
    "archives": [
        ("Welcome", "Hi, thanks for your question about our Archives and Special Collections! I'm reading it now "
                    "and will be with you shortly."),
        ("One moment", "One moment while I check the finding aids…"),
        ("Reading room appointments",
         "Special collections materials are seen by appointment in the reading room. Tell me which collection "
         "and a few dates that suit you, and I'll request the items so they are ready when you arrive."),
        ("Anything else", _ANYTHING_ELSE),
    ],
}


def demo_canned() -> list[tuple[int, CannedMessage]]:
    """The demo canned messages as (position, message) pairs; ids are
    ``<department>-<n>`` so re-seeding finds them."""
    return [
        (position, CannedMessage(id=f"{department}-{position}", department_id=department, title=title,
                                 body=body, is_welcome=position == 0))
        for department, texts in _TEXTS.items()
        for position, (title, body) in enumerate(texts)
    ]


async def apply(store: ChatStore) -> int:
    """Insert the demo canned messages that are missing; return how many were added."""
    return await store.add_canned_if_missing(demo_canned())
