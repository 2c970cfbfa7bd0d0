"""Who may read what in the analytics HTTP API (docs/analytics.md § Who sees what).

One rule for every endpoint under ``/api``: admins see every department; an operator
sees only the departments they are a member of, looked up through the queue service
(``rd.queue.operator.get``) on each request, so a membership change applies at once.
A Reference Analytics record belongs to its ``department_id``; one without a
department (a hand entry saved without one) is visible to admins and to the
operator who wrote it (the SQL of :meth:`.ra_store.RaStore.list_records` and
:func:`.facts_store.record_field_values`).
"""

# No ``from __future__ import annotations``: FastAPI must see the dependency in
# ``access``'s annotation as an object, not a string naming a local.
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException

from refdesk.auth import TokenClaims
from refdesk.bus import NotFound
from refdesk.contracts.queue import OperatorProfile

ProfileLookup = Callable[[str], Awaitable[OperatorProfile]]
"""Fetch an operator's profile by id (raises :class:`refdesk.bus.NotFound` if unknown)."""


@dataclass(frozen=True)
class Access:
    """Who asks: ``departments`` they may see (None: all — an admin)."""

    operator_id: str
    is_admin: bool
    departments: frozenset[str] | None

    def sees_department(self, department_id: str | None) -> bool:
        """Whether a chat queued in ``department_id`` is visible (a chat of no known
        department only to admins)."""
        return self.departments is None or department_id in self.departments


def visible(access: Access, department_id: str | None) -> frozenset[str] | None:
    """The departments a listing or report covers for ``access`` and the
    ``department_id`` filter (None: every department).

    Raises:
        HTTPException: 403 when an operator asks for a department not theirs.
    """
    if department_id is None:
        return access.departments
    if not access.sees_department(department_id):
        raise refuse_department(access)
    return frozenset({department_id})


def refuse_department(access: Access) -> HTTPException:
    """The 403 for data of a department the operator is not a member of."""
    mine = ", ".join(sorted(access.departments or ())) or "none"
    return HTTPException(403, f"You can only see data of your own departments: {mine}.")


def access_guard(operator: Callable[..., TokenClaims], profiles: ProfileLookup | None) -> Callable[..., Awaitable[Access]]:
    """The FastAPI dependency that turns a valid operator token (``operator``, the
    token dependency) into an :class:`Access`. ``profiles`` looks the operator up
    (None: every caller is an admin — only for tools without a queue service).

    Raises (from the dependency):
        HTTPException: 403 for an operator the queue does not know; 503 when the
            queue cannot be asked.
    """

    async def access(claims: Annotated[TokenClaims, Depends(operator)]) -> Access:
        if profiles is None:
            return Access(claims.subject, True, None)
        try:
            profile = await profiles(claims.subject)
        except NotFound:
            raise HTTPException(403, "Your operator account is not known; ask an admin.") from None
        except Exception:  # noqa: BLE001 - queue unreachable
            raise HTTPException(503, "Analytics is unavailable for a moment (operator lookup failed); "
                                     "try again.") from None
        if profile.is_admin:
            return Access(profile.id, True, None)
        return Access(profile.id, False, frozenset(d.id for d in profile.departments))

    return access
