"""Meeting links for screenshares, made only once the patron has consented.

Two providers (chosen by :func:`provider_for` from the settings):

* :class:`RoomLinkProvider` (the default): ``settings.screenshare_url_template`` with
  ``{room}`` replaced by a fresh unguessable room name (``secrets.token_urlsafe``) —
  no vendor account needed (a Jitsi Meet room by default).
* :class:`ZoomProvider`, when ``settings.zoom_account_id``, ``zoom_client_id`` and
  ``zoom_client_secret`` are all set: a Zoom server-to-server OAuth app (LibChat's
  screenshare runs on Zoom, with the institution's own account) — an access token from
  ``POST https://zoom.us/oauth/token?grant_type=account_credentials&account_id=…``
  (HTTP Basic with the client id and secret), then an instant meeting from
  ``POST https://api.zoom.us/v2/users/me/meetings``. The patron gets the meeting's
  ``join_url``; the operator its ``start_url`` (host link, never sent to the patron).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from refdesk.bus import BusError
from refdesk.settings import Settings

ROOM_BYTES = 16
"""Random bytes in a room name (``secrets.token_urlsafe``: 22 URL-safe characters)."""

ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"
ZOOM_MEETINGS_URL = "https://api.zoom.us/v2/users/me/meetings"
ZOOM_TIMEOUT_SECONDS = 10.0
TOKEN_SLACK_SECONDS = 60
"""A cached Zoom access token is renewed this long before it expires."""

UNAVAILABLE = "The screenshare service is not answering; please try again."


@dataclass(frozen=True)
class MeetingLink:
    """A meeting made for one accepted request.

    Attributes:
        join_url: the link both sides may open (the patron's).
        host_url: the operator's link (Zoom's ``start_url``; else ``join_url``).
        provider: ``link`` or ``zoom``.
    """

    join_url: str
    host_url: str
    provider: str


class Provider(Protocol):
    """Makes a meeting link; called only after the patron accepted."""

    async def create(self, topic: str) -> MeetingLink:
        """A new meeting titled ``topic``. Raises BusError 503 when it cannot be made."""


def room_link(template: str, room: str | None = None) -> str:
    """``template`` with ``{room}`` replaced by ``room`` (a fresh
    ``secrets.token_urlsafe(ROOM_BYTES)`` when not given). A template without
    ``{room}`` gets the room appended as a path segment, so every link stays unique."""
    room = room or secrets.token_urlsafe(ROOM_BYTES)
    if "{room}" in template:
        return template.replace("{room}", room)
    return template.rstrip("/") + "/" + room


class RoomLinkProvider:
    """The default provider: a fresh unguessable room on a meeting service that needs
    no account (``settings.screenshare_url_template``)."""

    def __init__(self, template: str) -> None:
        self._template = template

    async def create(self, topic: str) -> MeetingLink:
        """A new room link (``topic`` is not part of it: the room name is random)."""
        url = room_link(self._template)
        return MeetingLink(join_url=url, host_url=url, provider="link")


class ZoomProvider:
    """Zoom meetings through a server-to-server OAuth app.

    Args:
        account_id, client_id, client_secret: the app's credentials.
        transport: the httpx transport (tests pass ``httpx.MockTransport``).
        clock: seconds, monotonic (for the token cache).
    """

    def __init__(self, account_id: str, client_id: str, client_secret: str, *,
                 transport: httpx.AsyncBaseTransport | None = None, clock=time.monotonic) -> None:
        self._account_id = account_id
        self._auth = (client_id, client_secret)
        self._transport = transport
        self._clock = clock
        self._token: tuple[str, float] | None = None  # (access token, expires at)

    async def create(self, topic: str) -> MeetingLink:
        """An instant meeting (``type`` 1) titled ``topic`` (at most 200 characters).

        Raises:
            BusError: ``503`` (:data:`UNAVAILABLE`) when Zoom cannot be reached or
                refuses (the reason is not shown: it may name credentials).
        """
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=ZOOM_TIMEOUT_SECONDS) as client:
                token = await self._access_token(client)
                response = await client.post(
                    ZOOM_MEETINGS_URL, headers={"Authorization": f"Bearer {token}"},
                    json=meeting_body(topic),
                )
                if response.status_code == 401:  # revoked early: forget it, so the next try asks anew
                    self._token = None
                response.raise_for_status()
                return meeting_link(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            raise BusError("503", UNAVAILABLE) from None

    async def _access_token(self, client: httpx.AsyncClient) -> str:
        now = self._clock()
        if self._token is not None and self._token[1] > now:
            return self._token[0]
        response = await client.post(
            ZOOM_TOKEN_URL, params={"grant_type": "account_credentials", "account_id": self._account_id},
            auth=self._auth,
        )
        response.raise_for_status()
        data = response.json()
        token = data["access_token"]
        lifetime = float(data.get("expires_in", 3600))
        self._token = (token, now + max(0.0, lifetime - TOKEN_SLACK_SECONDS))
        return token


def meeting_body(topic: str) -> dict:
    """The JSON body of Zoom's create-meeting call: an instant meeting with screen
    sharing, the patron joining without an account."""
    return {
        "topic": topic[:200],
        "type": 1,
        "settings": {"join_before_host": False, "waiting_room": False, "meeting_authentication": False},
    }


def meeting_link(meeting: dict) -> MeetingLink:
    """Read Zoom's create-meeting answer. Raises KeyError/TypeError when it has no
    ``join_url``/``start_url`` strings."""
    join_url, start_url = meeting["join_url"], meeting["start_url"]
    if not isinstance(join_url, str) or not isinstance(start_url, str) or not join_url.startswith("https://"):
        raise TypeError("Zoom answered without meeting links")
    return MeetingLink(join_url=join_url, host_url=start_url, provider="zoom")


def provider_for(settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> Provider:
    """:class:`ZoomProvider` when every ``zoom_*`` setting is set, else
    :class:`RoomLinkProvider` with ``settings.screenshare_url_template``."""
    if settings.zoom_account_id and settings.zoom_client_id and settings.zoom_client_secret:
        return ZoomProvider(settings.zoom_account_id, settings.zoom_client_id, settings.zoom_client_secret,
                            transport=transport)
    return RoomLinkProvider(settings.screenshare_url_template)
