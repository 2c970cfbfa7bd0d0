"""SQL of the queue service (asyncpg). :class:`QueueStore` hands out
:class:`Queries` bound to one connection, inside a transaction for writes.

Times are ``timestamptz`` set by PostgreSQL (``now()``, the transaction's start) and
come back as aware UTC datetimes. Chats are ordered "oldest first" by
``(queued_at, id)``; ids are time-ordered, so the id breaks ties.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from refdesk import outbox
from refdesk.contracts.common import EventEnvelope
from refdesk.contracts.queue import CreateChatRequest, OperatorStatus
from refdesk.db import SchemaStore

from .config import BOARD_MAX_CHATS

# A chat row with what its view needs: the department's name and the owner's nickname,
# its open transfer (JSON, or NULL) and the operators who stayed in it (JSON list).
# ``{source}`` is ``chats`` or the name of a CTE that returned changed chat rows.
_CHAT_VIEW = """
    SELECT c.*, d.name AS department_name, o.nickname AS claimed_by_name,
        (SELECT to_jsonb(tv) FROM transfer_views tv
         WHERE tv.chat_id = c.id AND tv.state IN ('pending', 'accepted')) AS transfer,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('operator_id', p.operator_id, 'nickname', po.nickname)
                                   ORDER BY p.joined_at, p.operator_id), '[]'::jsonb)
         FROM chat_participants p JOIN operators po ON po.id = p.operator_id WHERE p.chat_id = c.id) AS participants
    FROM {source} c
    JOIN departments d ON d.id = c.department_id
    LEFT JOIN operators o ON o.id = c.claimed_by
"""


def _changed(update: str) -> str:
    """Wrap a data-changing statement ``... RETURNING *`` so that it answers view rows."""
    return f"WITH changed AS ({update}) " + _CHAT_VIEW.format(source="changed")


class QueueStore(SchemaStore["Queries"]):
    """Access to the ``queue`` schema through an asyncpg pool whose search path starts
    with that schema: ``transaction()`` / ``reading()`` yield :class:`Queries`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool, Queries)


class Queries:
    """The statements of the queue service, on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def enqueue(self, subject: str, event: EventEnvelope) -> None:
        """Add ``event`` to the outbox (published after commit by the relay)."""
        await outbox.enqueue(self._conn, subject, event)

    # --- departments ---------------------------------------------------------------

    async def departments(self) -> list[asyncpg.Record]:
        """Every department (``id``, ``name``), by name."""
        return await self._conn.fetch("SELECT id, name FROM departments ORDER BY name, id")

    async def department(self, department_id: str) -> asyncpg.Record | None:
        """One department (``id``, ``name``), or ``None``."""
        return await self._conn.fetchrow("SELECT id, name FROM departments WHERE id = $1", department_id)

    async def add_department(self, department_id: str, name: str) -> None:
        """Create a department unless one with that id exists."""
        await self._conn.execute(
            "INSERT INTO departments (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", department_id, name
        )

    async def monitor_statuses(self) -> list[tuple[str, OperatorStatus]]:
        """One ``(department_id, operator status)`` pair per operator monitoring a department."""
        rows = await self._conn.fetch(
            "SELECT m.department_id, o.status FROM monitored_departments m JOIN operators o ON o.id = m.operator_id"
        )
        return [(row["department_id"], row["status"]) for row in rows]

    # --- operators -----------------------------------------------------------------

    async def operator(self, operator_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        """An operator row, or ``None``. ``lock`` takes a row lock until the transaction
        ends (status changes of that operator wait)."""
        suffix = " FOR UPDATE" if lock else ""
        return await self._conn.fetchrow(f"SELECT * FROM operators WHERE id = $1{suffix}", operator_id)

    async def operator_by_username(self, username: str) -> asyncpg.Record | None:
        """The operator with this (normalised) username, or ``None``."""
        return await self._conn.fetchrow("SELECT * FROM operators WHERE username = $1", username)

    async def add_operator(
        self, operator_id: str, *, username: str, full_name: str, nickname: str, password_hash: str, is_admin: bool
    ) -> asyncpg.Record | None:
        """Insert an operator (offline); ``None`` when the username is taken."""
        return await self._conn.fetchrow(
            "INSERT INTO operators (id, username, full_name, nickname, password_hash, is_admin)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING RETURNING *",
            operator_id, username, full_name, nickname, password_hash, is_admin,
        )

    async def add_memberships(self, operator_id: str, department_ids: Sequence[str]) -> None:
        """Make the operator a member of each department (ids must exist)."""
        await self._conn.execute(
            "INSERT INTO memberships (operator_id, department_id) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
            operator_id, list(department_ids),
        )

    async def memberships(self, operator_id: str) -> list[asyncpg.Record]:
        """The departments (``id``, ``name``) the operator belongs to, by name."""
        return await self._conn.fetch(
            "SELECT d.id, d.name FROM memberships m JOIN departments d ON d.id = m.department_id"
            " WHERE m.operator_id = $1 ORDER BY d.name, d.id",
            operator_id,
        )

    async def monitored(self, operator_id: str) -> list[str]:
        """Ids of the departments the operator monitors, sorted."""
        rows = await self._conn.fetch(
            "SELECT department_id FROM monitored_departments WHERE operator_id = $1 ORDER BY department_id", operator_id
        )
        return [row["department_id"] for row in rows]

    async def set_status(self, operator_id: str, status: OperatorStatus, monitored: Sequence[str]) -> asyncpg.Record:
        """Store the operator's status (``status_changed_at`` moves only when it
        changes; going Online counts as being seen now) and replace their monitored
        departments; return the operator row."""
        row = await self._conn.fetchrow(
            "UPDATE operators SET status = $2,"
            " status_changed_at = CASE WHEN status = $2 THEN status_changed_at ELSE now() END,"
            " last_seen_at = CASE WHEN $2 = 'online' THEN now() ELSE last_seen_at END"
            " WHERE id = $1 RETURNING *",
            operator_id, status,
        )
        await self._conn.execute(
            "DELETE FROM monitored_departments WHERE operator_id = $1 AND department_id <> ALL($2::text[])",
            operator_id, list(monitored),
        )
        await self._conn.execute(
            "INSERT INTO monitored_departments (operator_id, department_id) SELECT $1, unnest($2::text[])"
            " ON CONFLICT DO NOTHING",
            operator_id, list(monitored),
        )
        return row

    async def mark_seen(self, operator_ids: Sequence[str]) -> None:
        """Record that these operators have a dashboard connected (now)."""
        await self._conn.execute("UPDATE operators SET last_seen_at = now() WHERE id = ANY($1::text[])", list(operator_ids))

    async def absent_online(self, timeout_seconds: float) -> list[str]:
        """Ids of Online operators not seen for more than ``timeout_seconds``."""
        rows = await self._conn.fetch(
            "SELECT id FROM operators WHERE status = 'online'"
            " AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => $1))",
            timeout_seconds,
        )
        return [row["id"] for row in rows]

    async def still_absent(self, operator_id: str, timeout_seconds: float) -> bool:
        """Under a row lock: is the operator still Online and unseen for longer than
        ``timeout_seconds``? (A heartbeat may have arrived since the sweep looked.)"""
        return bool(await self._conn.fetchval(
            "SELECT status = 'online' AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => $2))"
            " FROM operators WHERE id = $1 FOR UPDATE",
            operator_id, timeout_seconds,
        ))

    # --- chats ---------------------------------------------------------------------

    async def add_chat(self, chat_id: str, request: CreateChatRequest) -> asyncpg.Record | None:
        """Insert a queued chat; return its view row, or ``None`` when a chat with the
        request's ``request_id`` exists (a concurrent attempt with the same id waits
        for the first one's transaction, then gets ``None`` too)."""
        return await self._conn.fetchrow(
            _changed(
                "INSERT INTO chats (id, department_id, patron_name, patron_email, question, page_url, request_id)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)"
                " ON CONFLICT (request_id) WHERE request_id IS NOT NULL DO NOTHING RETURNING *"
            ),
            chat_id, request.department_id, request.patron_name, request.patron_email, request.question,
            request.page_url, request.request_id,
        )

    async def chat_by_request_id(self, request_id: str) -> asyncpg.Record | None:
        """The view row of the chat created with this client ``request_id``, or ``None``."""
        return await self._conn.fetchrow(_CHAT_VIEW.format(source="chats") + " WHERE c.request_id = $1", request_id)

    async def chat(self, chat_id: str, *, lock: bool = False) -> asyncpg.Record | None:
        """A chat's view row, or ``None``. ``lock`` holds the chat row until the
        transaction ends, so a check and the change that follows cannot interleave
        with another transition."""
        suffix = " FOR UPDATE OF c" if lock else ""
        return await self._conn.fetchrow(_CHAT_VIEW.format(source="chats") + f" WHERE c.id = $1{suffix}", chat_id)

    async def claim(self, chat_id: str, operator_id: str) -> asyncpg.Record | None:
        """Atomically claim a queued chat: one conditional UPDATE, so of any number of
        concurrent claimers exactly one gets the view row and the others ``None``."""
        return await self._conn.fetchrow(
            _changed(
                "UPDATE chats SET state = 'active', claimed_by = $2, claimed_at = now()"
                " WHERE id = $1 AND state = 'queued' RETURNING *"
            ),
            chat_id, operator_id,
        )

    async def end(self, chat_id: str, ended_by: str) -> asyncpg.Record:
        """Mark a chat ended (the caller checked it may end); return its view row."""
        return await self._conn.fetchrow(
            _changed("UPDATE chats SET state = 'ended', ended_at = now(), ended_by = $2 WHERE id = $1 RETURNING *"),
            chat_id, ended_by,
        )

    async def rate(self, chat_id: str, rating: int, comment: str | None) -> asyncpg.Record:
        """Set (or replace) the patron's rating of a chat; return its view row."""
        return await self._conn.fetchrow(
            _changed("UPDATE chats SET rating = $2, rating_comment = $3, rated_at = now() WHERE id = $1 RETURNING *"),
            chat_id, rating, comment,
        )

    async def close(self, chat_id: str) -> asyncpg.Record:
        """Mark a chat closed (the caller checked it may close); return its view row."""
        return await self._conn.fetchrow(
            _changed("UPDATE chats SET state = 'closed', closed_at = now() WHERE id = $1 RETURNING *"), chat_id
        )

    async def dismiss(self, chat_id: str, operator_id: str, nickname: str, note: str) -> asyncpg.Record:
        """Close a queued or active chat as dismissed by ``operator_id`` (the caller
        checked it may); return its view row."""
        return await self._conn.fetchrow(
            _changed(
                "UPDATE chats SET state = 'closed', ended_at = now(), ended_by = 'operator', closed_at = now(),"
                " dismissed_by = $2, dismissed_by_name = $3, dismiss_note = $4 WHERE id = $1 RETURNING *"
            ),
            chat_id, operator_id, nickname, note,
        )

    async def department_queue(self, department_id: str, limit: int) -> tuple[list[str], int]:
        """The ids of the department's ``limit`` oldest queued chats (oldest first) and
        how many chats are queued there in all."""
        rows = await self._conn.fetch(
            "SELECT id, count(*) OVER () AS waiting FROM chats WHERE department_id = $1 AND state = 'queued'"
            " ORDER BY queued_at, id LIMIT $2",
            department_id, limit,
        )
        return [row["id"] for row in rows], (rows[0]["waiting"] if rows else 0)

    async def place_in_queue(self, chat_id: str) -> tuple[int, int]:
        """``(ahead, waiting)`` for a chat: how many queued chats of its department
        were queued before it, and how many are queued there in all (``(0, 0)`` for
        an unknown chat)."""
        row = await self._conn.fetchrow(
            "SELECT count(*) FILTER (WHERE (o.queued_at, o.id) < (c.queued_at, c.id)) AS ahead, count(o.id) AS waiting"
            " FROM chats c LEFT JOIN chats o ON o.department_id = c.department_id AND o.state = 'queued'"
            " WHERE c.id = $1",
            chat_id,
        )
        return row["ahead"], row["waiting"]

    async def open_chats(self, department_ids: Sequence[str], operator_id: str | None = None) -> list[asyncpg.Record]:
        """View rows of the queued and active chats of these departments, plus the
        active and ended-but-not-closed chats owned by ``operator_id`` (whatever their
        department: a transfer may have brought them), the active chats they take
        part in and the active chats with an open transfer to them or to one of these
        departments: that operator's own chats first, then oldest first; at most
        ``BOARD_MAX_CHATS + 1`` (one more than a board lists, so the caller knows
        whether more exist)."""
        return await self._conn.fetch(
            _CHAT_VIEW.format(source="chats")
            + " WHERE (c.department_id = ANY($1::text[]) AND c.state IN ('queued', 'active'))"
            " OR (c.claimed_by = $3 AND c.state IN ('active', 'ended'))"
            " OR (c.state = 'active' AND c.id IN ("
            "   SELECT chat_id FROM chat_participants WHERE operator_id = $3"
            "   UNION SELECT chat_id FROM transfers WHERE state IN ('pending', 'accepted')"
            "   AND (to_operator_id = $3 OR to_department_id = ANY($1::text[]))))"
            " ORDER BY coalesce(c.claimed_by = $3, false) DESC, c.queued_at, c.id LIMIT $2",
            list(department_ids), BOARD_MAX_CHATS + 1, operator_id,
        )

    # --- staff list ------------------------------------------------------------------

    async def staff(self, operator_ids: Sequence[str] | None) -> tuple[list[asyncpg.Record], ...]:
        """What the staff list needs, for every operator or those of ``operator_ids``:
        operator rows (``id``, ``nickname``, ``full_name``, ``status``) by nickname;
        memberships (``operator_id``, ``id``, ``name``) by department name; monitored
        departments (``operator_id``, ``department_id``); and active chat counts
        (``operator_id``, ``n``) of the operators who own chats in state ``active``."""
        ids = None if operator_ids is None else list(operator_ids)
        where = "WHERE ($1::text[] IS NULL OR {col} = ANY($1::text[]))"
        operators = await self._conn.fetch(
            "SELECT id, nickname, full_name, status FROM operators " + where.format(col="id")
            + " ORDER BY lower(nickname), id", ids)
        members = await self._conn.fetch(
            "SELECT m.operator_id, d.id, d.name FROM memberships m JOIN departments d ON d.id = m.department_id "
            + where.format(col="m.operator_id") + " ORDER BY d.name, d.id", ids)
        monitored = await self._conn.fetch(
            "SELECT operator_id, department_id FROM monitored_departments " + where.format(col="operator_id")
            + " ORDER BY department_id", ids)
        active = await self._conn.fetch(
            "SELECT claimed_by AS operator_id, count(*) AS n FROM chats WHERE state = 'active' AND "
            + where.format(col="claimed_by")[len("WHERE "):] + " GROUP BY claimed_by", ids)
        return operators, members, monitored, active

    # --- transfers -------------------------------------------------------------------

    async def open_transfer_row(self, chat_id: str) -> asyncpg.Record | None:
        """The chat's open (pending or accepted) transfer as a ``transfer_views`` row,
        or ``None``."""
        return await self._conn.fetchrow(
            "SELECT * FROM transfer_views WHERE chat_id = $1 AND state IN ('pending', 'accepted')", chat_id)

    async def add_transfer(self, transfer_id: str, chat_id: str, from_operator_id: str, *, to_operator_id: str | None,
                           to_department_id: str | None, note: str, stay: bool) -> bool:
        """Insert a pending transfer; ``False`` when the chat already has an open one
        (the partial unique index decides, so two concurrent requests cannot both win)."""
        row = await self._conn.fetchrow(
            "INSERT INTO transfers (id, chat_id, from_operator_id, to_operator_id, to_department_id, note, stay)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)"
            " ON CONFLICT (chat_id) WHERE state IN ('pending', 'accepted') DO NOTHING RETURNING id",
            transfer_id, chat_id, from_operator_id, to_operator_id, to_department_id, note, stay,
        )
        return row is not None

    async def accept_transfer(self, transfer_id: str, operator_id: str) -> bool:
        """pending → accepted by ``operator_id``; ``False`` when it was no longer pending."""
        return await self._conn.fetchval(
            "UPDATE transfers SET state = 'accepted', accepted_by = $2, accepted_at = now()"
            " WHERE id = $1 AND state = 'pending' RETURNING true",
            transfer_id, operator_id,
        ) is not None

    async def finish_transfer(self, transfer_id: str, state: str, operator_id: str | None,
                              *, from_states: Sequence[str] = ("pending", "accepted")) -> bool:
        """Close an open transfer as ``state`` (declined, cancelled, completed, ended) by
        ``operator_id``, if it is still in one of ``from_states`` — one conditional
        UPDATE, so of concurrent finishers exactly one gets ``True``."""
        return await self._conn.fetchval(
            "UPDATE transfers SET state = $2, finished_by = $3, finished_at = now()"
            " WHERE id = $1 AND state = ANY($4::text[]) RETURNING true",
            transfer_id, state, operator_id, list(from_states),
        ) is not None

    async def hand_over(self, chat_id: str, operator_id: str, department_id: str | None) -> None:
        """Make ``operator_id`` the owner of an active chat that a transfer brought them
        (``claimed_at`` keeps the first claim, so wait time and duration stay the
        patron's), count the transfer and, for a department transfer, move the chat
        to that department. The new owner is no longer a participant."""
        await self._conn.execute(
            "UPDATE chats SET claimed_by = $2, transfer_count = transfer_count + 1,"
            " department_id = coalesce($3, department_id) WHERE id = $1",
            chat_id, operator_id, department_id,
        )
        await self._conn.execute("DELETE FROM chat_participants WHERE chat_id = $1 AND operator_id = $2",
                                 chat_id, operator_id)

    async def add_participant(self, chat_id: str, operator_id: str) -> None:
        """``operator_id`` stays in the chat besides its owner."""
        await self._conn.execute(
            "INSERT INTO chat_participants (chat_id, operator_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            chat_id, operator_id,
        )
