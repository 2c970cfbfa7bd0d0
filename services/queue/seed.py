"""Demo data shared by every service (ids agree across services): the departments
Reference, Circulation and Archives and the operators ana, ben and cleo (password
``librarian``). Idempotent: existing departments and operators are left alone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from refdesk.bus import Conflict
from refdesk.contracts.queue import CreateOperatorRequest

from .store import QueueStore

DEMO_DEPARTMENTS = [("reference", "Reference"), ("circulation", "Circulation"), ("archives", "Archives")]

DEMO_PASSWORD = "librarian"

DEMO_OPERATORS = [
    CreateOperatorRequest(username="ana", full_name="Ana Alvarez", nickname="Ana", password=DEMO_PASSWORD,
                          department_ids=["reference", "circulation"]),
    CreateOperatorRequest(username="ben", full_name="Ben Okafor", nickname="Ben", password=DEMO_PASSWORD,
                          department_ids=["reference", "archives"]),
    CreateOperatorRequest(username="cleo", full_name="Cleo Park", nickname="Cleo", password=DEMO_PASSWORD,
                          department_ids=["reference", "circulation", "archives"], is_admin=True),
]


async def apply_demo_seed(store: QueueStore, create_operator: Callable[[CreateOperatorRequest], Awaitable[Any]]) -> None:
    """Insert the demo departments, then create each demo operator whose username does
    not exist yet through ``create_operator`` (the service's own operator creation,
    so passwords are hashed the one way). A replica seeding at the same time is
    harmless: the loser of a username race skips that operator."""
    async with store.transaction() as q:
        for department_id, name in DEMO_DEPARTMENTS:
            await q.add_department(department_id, name)
        missing = [op for op in DEMO_OPERATORS if await q.operator_by_username(op.username) is None]
    for operator in missing:
        try:
            await create_operator(operator)
        except Conflict:
            pass
