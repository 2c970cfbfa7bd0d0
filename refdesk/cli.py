"""The ``refdesk`` command.

``refdesk up``
    Start the whole system on one machine: embedded NATS (JetStream) and PostgreSQL
    with data under the state folder (unless ``NATS_URL`` / ``DATABASE_URL`` point at
    external servers), apply every service's migrations, start the queue, chat,
    tickets and analytics services and the gateway as child processes, wait until each
    answers, and print where to open the patron widget and the staff dashboard. Ctrl-C
    stops everything cleanly; the next ``up`` keeps the data.

    Mail: unless ``RD_SMTP_HOST`` names another machine than this one, ``up`` also runs
    the local mail catcher (:mod:`refdesk.mailcatcher`: SMTP on ``RD_SMTP_PORT``, its
    page on ``RD_MAILCATCHER_PORT``, a free port when the preferred one is taken), so
    transcripts and ticket replies appear on a page instead of being delivered; the
    dashboard links to it. With ``RD_SMTP_HOST=smtp.example.edu`` mail goes to that
    server and no catcher runs.

``refdesk migrate``
    Apply every service's pending migrations and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import nats

from . import db
from .embedded import EmbeddedError, Server, free_port, port_open, start_nats, start_postgres
from .mailcatcher import runs_locally
from .settings import Settings

SERVICES = ("queue", "chat", "tickets", "analytics")
DEMO_SIGN_INS = (("ana", "Reference, Circulation"), ("ben", "Reference, Archives"), ("cleo", "all departments, admin"))
DEMO_PASSWORD = "librarian"


def _say(text: str = "") -> None:
    print(text, flush=True)


async def migrate_all(database_url: str) -> dict[str, list[str]]:
    """Apply the migrations of every service; return the file names applied per schema."""
    await db.ensure_database(database_url)
    applied = {}
    for name in SERVICES:
        spec = importlib.import_module(f"services.{name}").SPEC
        applied[name] = await db.migrate(database_url, spec.schema, spec.migrations)
    return applied


async def _wait_healthy(settings: Settings, children: dict[str, subprocess.Popen[bytes]], timeout: float = 180.0,
                        extra_urls: tuple[str, ...] = ()) -> None:
    deadline = time.monotonic() + timeout
    nc = await nats.connect(settings.nats_url, max_reconnect_attempts=-1)
    try:
        for name in SERVICES:
            while True:
                _check_children(children)
                try:
                    await nc.request(f"$SRV.PING.{name}", b"", timeout=0.5)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the {name} service did not start; see its log") from None
                    await asyncio.sleep(0.1)
    finally:
        await nc.close()
    async with httpx.AsyncClient() as client:
        for url in (f"http://{settings.gateway_host}:{settings.gateway_port}/healthz",
                    f"http://{settings.analytics_host}:{settings.analytics_port}/healthz", *extra_urls):
            while True:
                _check_children(children)
                try:
                    if (await client.get(url, timeout=1)).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} did not answer; see the logs")
                await asyncio.sleep(0.1)


def _check_children(children: dict[str, subprocess.Popen[bytes]]) -> None:
    for name, proc in children.items():
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with code {proc.returncode}")


def _secret(state: Path) -> str:
    path = state / "jwt-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _server(servers: list[Server], label: str, external: str | None, start: Callable[[Path, int], Server],
            state: Path, port: int, folder: str) -> str:
    """The URL of ``external`` when given; otherwise start the embedded server (on
    ``port`` when free) with its data in ``state/folder``, keep it in ``servers`` for
    the shutdown, and return its URL. Says which on the terminal."""
    if external:
        _say(f"• using {label} at {external}")
        return external
    servers.append(start(state, _pick_port(port)))
    _say(f"• {label} started: {servers[-1].url}  data: {state / folder}")
    return servers[-1].url


def _pick_port(preferred: int) -> int:
    return preferred if not port_open(preferred) else free_port()


def up(args: argparse.Namespace) -> int:
    """Run ``refdesk up``; return the exit code."""
    base = Settings()
    state = base.state_dir.resolve()
    (state / "logs").mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    children: dict[str, subprocess.Popen[bytes]] = {}
    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started in the background
    try:
        for port, what in ((base.gateway_port, "gateway"), (base.analytics_port, "analytics API")):
            if port_open(port):
                _say(f"Port {port} for the {what} is already in use (is refdesk already up?). "
                     f"Set RD_GATEWAY_PORT / RD_ANALYTICS_PORT to use other ports.")
                return 2
        nats_url = os.environ.get("NATS_URL") or os.environ.get("RD_NATS_URL")
        database_url = os.environ.get("DATABASE_URL") or os.environ.get("RD_DATABASE_URL")
        nats_url = _server(servers, "NATS", nats_url, start_nats, state, 14222, "nats")
        database_url = _server(servers, "PostgreSQL", database_url, start_postgres, state, 15432, "postgres")
        applied = asyncio.run(migrate_all(database_url))
        count = sum(len(names) for names in applied.values())
        _say(f"• migrations: {count} applied now" if count else "• migrations: up to date")
        env = dict(os.environ, RD_NATS_URL=nats_url, RD_DATABASE_URL=database_url,
                   RD_JWT_SECRET=base.jwt_secret or _secret(state),
                   RD_DEMO_SEED="false" if args.no_demo else "true", PYTHONUNBUFFERED="1")
        mail_url = ""
        if runs_locally(base):
            smtp_port, page_port = _pick_port(base.smtp_port), _pick_port(base.mailcatcher_port)
            mail_url = f"http://127.0.0.1:{page_port}/"
            env.update(RD_SMTP_PORT=str(smtp_port), RD_MAILCATCHER_PORT=str(page_port), RD_MAILCATCHER_URL=mail_url)
            log = (state / "logs" / "mailcatcher.log").open("ab")
            children["mailcatcher"] = subprocess.Popen([sys.executable, "-m", "refdesk.mailcatcher"], env=env,
                                                       stdout=log, stderr=subprocess.STDOUT)
        else:
            _say(f"• sending mail through {base.smtp_host}:{base.smtp_port} (no local mail catcher)")
        for name in (*SERVICES, "gateway"):
            module = "gateway" if name == "gateway" else f"services.{name}"
            log = (state / "logs" / f"{name}.log").open("ab")
            children[name] = subprocess.Popen([sys.executable, "-m", module], env=env, stdout=log, stderr=subprocess.STDOUT)
        settings = Settings(nats_url=nats_url, database_url=database_url)
        asyncio.run(_wait_healthy(settings, children, extra_urls=(f"{mail_url}healthz",) if mail_url else ()))
        gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
        _say()
        _say("refdesk is up.")
        _say(f"  Staff dashboard:   {gateway}/dashboard/")
        _say(f"  Patron widget:     {gateway}/demo/   (a sample library page; embed with {gateway}/widget.js)")
        _say(f"  Patron chat page:  {gateway}/patron/?department=reference")
        _say(f"  Reporting API:     http://{settings.analytics_host}:{settings.analytics_port}/docs")
        if mail_url:
            _say(f"  Caught mail:       {mail_url}   (SMTP catcher on port {env['RD_SMTP_PORT']})")
        if not args.no_demo:
            _say(f"  Demo sign-ins (password '{DEMO_PASSWORD}'): "
                 + "; ".join(f"{user} ({where})" for user, where in DEMO_SIGN_INS))
        _say(f"  Logs: {state / 'logs'}   Press Ctrl-C to stop.")
        while True:
            _check_children(children)
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("\nStopping refdesk…")
        return 0
    except (EmbeddedError, RuntimeError, TimeoutError, OSError) as exc:
        _say(f"refdesk could not start: {exc}")
        _say(f"Logs are in {state / 'logs'}.")
        return 1
    finally:
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(20)
            if proc.poll() is None:
                proc.kill()
        for server in reversed(servers):
            server.stop()
        if children or servers:
            _say("Stopped.")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``refdesk`` console script."""
    parser = argparse.ArgumentParser(prog="refdesk", description="Library chat reference service.")
    sub = parser.add_subparsers(dest="command", required=True)
    up_parser = sub.add_parser("up", help="start everything on embedded defaults and print where to open it")
    up_parser.add_argument("--no-demo", action="store_true", help="do not insert the demo departments, operators and canned messages")
    sub.add_parser("migrate", help="apply every service's migrations to DATABASE_URL and exit")
    args = parser.parse_args(argv)
    if args.command == "up":
        return up(args)
    applied = asyncio.run(migrate_all(Settings().database_url))
    for schema, names in applied.items():
        print(f"{schema}: {', '.join(names) if names else 'up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
