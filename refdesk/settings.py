"""Settings read from the environment (and an optional ``.env`` file).

Every part of refdesk reads the same :class:`Settings`. Variables use the ``RD_``
prefix, except the two connection URLs, which also answer to the conventional
``NATS_URL`` and ``DATABASE_URL`` names.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """refdesk configuration.

    Attributes:
        nats_url: NATS server URL(s), comma separated (``NATS_URL`` or ``RD_NATS_URL``).
        database_url: PostgreSQL DSN, ``postgresql://user@host:port/db``
            (``DATABASE_URL`` or ``RD_DATABASE_URL``).
        state_dir: folder for embedded server data and generated secrets.
        jwt_secret: HMAC secret for operator and patron tokens; generated into
            ``state_dir`` by ``refdesk up`` when empty.
        token_ttl_seconds: lifetime of an operator token in seconds.
        gateway_host / gateway_port: where the gateway listens (HTTP + websocket).
        analytics_host / analytics_port: where the analytics reporting API listens.
        demo_seed: when true, services insert the demo departments, operators,
            canned messages and dataset (idempotent).
        log_format: ``console`` or ``json``.
        time_zone: the library's IANA time zone, for display and reports.
        presence_heartbeat_seconds: how often each gateway tells the queue service
            which operators have a dashboard connected.
        presence_timeout_seconds: an Online operator with no dashboard connected for
            this long is set Offline (a reload or a network blip is shorter).
        request_timeout_seconds: how long the gateway waits for a service's answer
            (the request's deadline: a service skips it once this has passed).
        patron_chat_limit / patron_chat_window_seconds: at most this many
            ``POST /api/patron/chats`` per client address in any window of this many
            seconds (generous: a library's public computers share one address).
        login_failure_limit / login_failure_window_seconds: at most this many failed
            operator sign-ins per client address in any window of this many seconds
            (successful sign-ins do not count).
        trusted_proxies: comma-separated addresses of reverse proxies in front of the
            gateway; for requests from them the client address is taken from
            ``X-Forwarded-For``. Empty: the connecting address is the client's.
        smtp_host / smtp_port / smtp_username / smtp_password / smtp_starttls: the
            outgoing mail server (transcripts, ticket replies, confirmations). The
            default is the local mail catcher ``refdesk up`` starts.
        mail_from: the From address of every email refdesk sends.
        mail_retry_seconds: the waits, in seconds, between a failed SMTP attempt and
            the next one (:mod:`refdesk.mail`); one attempt more than waits is made
            before a mail is marked failed. Env: a JSON list, ``[10, 60, 300]``.
        smtp_timeout_seconds: how long one SMTP attempt may take.
        inbound_smtp_host / inbound_smtp_port: where the tickets service listens
            for patrons' email replies (aiosmtpd).
        ticket_reply_domain: domain of the per-ticket reply addresses
            (``ticket+<ticket id>.<secret>@<domain>``); route it to the inbound port.
        mailcatcher_port: HTTP port of the local mail catcher's page (``refdesk up``).
        mailcatcher_url: where staff open the mail catcher's page; set by ``refdesk up``
            when it runs the catcher (the dashboard then shows a "Mail" link), empty
            otherwise.
        screenshare_url_template: the meeting link a screenshare uses; ``{room}`` is
            replaced by a fresh unguessable room name (no vendor account needed).
        zoom_account_id / zoom_client_id / zoom_client_secret: when all are set,
            screenshares create Zoom meetings instead.
    """

    model_config = SettingsConfigDict(env_prefix="RD_", env_file=".env", extra="ignore")

    nats_url: str = Field(
        default="nats://127.0.0.1:4222",
        validation_alias=AliasChoices("RD_NATS_URL", "NATS_URL"),
    )
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/refdesk",
        validation_alias=AliasChoices("RD_DATABASE_URL", "DATABASE_URL"),
    )
    state_dir: Path = Path(".refdesk")
    jwt_secret: str = ""
    token_ttl_seconds: int = 12 * 3600
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    analytics_host: str = "127.0.0.1"
    analytics_port: int = 8081
    demo_seed: bool = False
    log_format: str = "console"
    log_level: str = "INFO"
    time_zone: str = "UTC"
    max_message_chars: int = 4000
    presence_heartbeat_seconds: float = 15.0
    presence_timeout_seconds: float = 60.0
    request_timeout_seconds: float = 5.0
    patron_chat_limit: int = Field(default=30, ge=1)
    patron_chat_window_seconds: float = Field(default=600.0, gt=0)
    login_failure_limit: int = Field(default=10, ge=1)
    login_failure_window_seconds: float = Field(default=300.0, gt=0)
    trusted_proxies: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Ask a Librarian <ask@refdesk.localhost>"
    mail_retry_seconds: list[float] = [10.0, 60.0, 300.0, 900.0, 3600.0]
    smtp_timeout_seconds: float = 30.0
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = 2525
    ticket_reply_domain: str = "tickets.refdesk.localhost"
    mailcatcher_port: int = 8025
    mailcatcher_url: str = ""
    screenshare_url_template: str = "https://meet.jit.si/refdesk-{room}"
    zoom_account_id: str | None = None
    zoom_client_id: str | None = None
    zoom_client_secret: str | None = None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide :class:`Settings`, read once from the environment."""
    return Settings()
