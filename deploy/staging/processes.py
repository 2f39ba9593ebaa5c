"""Native processes of the staging stack: start, SIGKILL, restart, readiness, and a
supervisor that restarts whatever exits on its own (as ``restart: unless-stopped`` does in
deploy/compose.yaml) and writes each such exit down for the report.

Every process runs in a session of its own, so that a kill reaches its whole process
group (PostgreSQL's postmaster and every backend at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

Probe = Callable[[], Awaitable[bool]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def is_root() -> bool:
    return os.geteuid() == 0


# --- Binaries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binaries:
    postgres_bin: Path
    """Directory of ``initdb`` and ``postgres``."""
    redis_server: Path
    caddy: Path | None


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb and postgres, else the
    directory of an ``initdb`` on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(str(Path(on_path).resolve().parent))
    for directory in candidates:
        if (Path(directory) / "initdb").exists() and (Path(directory) / "postgres").exists():
            return Path(directory)
    return None


def find_binaries() -> tuple[Binaries | None, str]:
    """The binaries the stack needs, or None and what is missing."""
    postgres = find_postgres_bin()
    redis = shutil.which("redis-server")
    missing = []
    if postgres is None:
        missing.append("PostgreSQL server binaries (initdb, postgres: Debian's postgresql)")
    if redis is None:
        missing.append("redis-server (Debian's redis-server)")
    if missing:
        return None, " and ".join(missing)
    caddy = shutil.which("caddy")
    return Binaries(postgres, Path(redis), Path(caddy) if caddy else None), ""  # type: ignore[arg-type]


def install_caddy() -> str:
    """``apt-get install -y caddy`` when we are root and it is missing; what happened."""
    if shutil.which("caddy"):
        return "present"
    if not is_root() or not shutil.which("apt-get"):
        return "missing (not root: apt-get install -y caddy to use it)"
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "caddy"],
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not shutil.which("caddy"):
        return f"missing (apt-get install caddy failed: {result.stderr.strip()[-200:]})"
    return "installed from Debian"


# --- One process --------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the run itself dies, so that no process
    outlives a killed run (Linux; the kernel drops it for a process that changes user,
    PostgreSQL here, which the run stops itself)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, theirs…), read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …: comm may hold spaces and parentheses.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Exit:
    service: str
    at: float
    returncode: int | None
    reason: str
    """The last exception line of its log, if any."""


_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit)\b.*$")


def last_exception(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if _EXCEPTION.match(line.strip())]
    return lines[-1][:300] if lines else ""


@dataclass
class Service:
    """One long-running process of the stack."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    probe: Probe
    user: str | None = None
    cwd: Path | None = None
    process: subprocess.Popen | None = None
    held_down: bool = False
    """True while a fault keeps it down on purpose: the supervisor leaves it alone."""
    starts: int = 0
    log_offset: int = 0
    """Size of the log when the current process started (probes read what follows)."""

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            log.write(f"\n=== start {self.starts + 1} at {time.strftime('%X')} ===\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=self.user,
                preexec_fn=_die_with_parent,
            )
        self.starts += 1

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def kill(self) -> None:
        """SIGKILL to the process, its group and every descendant at once (PostgreSQL's
        backends run in sessions of their own: the whole server dies, as when its
        container or machine does), then reap it."""
        if self.process is None:
            return
        doomed = descendants(self.process.pid)
        self.signal_group(signal.SIGKILL)
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout``."""
        if not self.running:
            self.signal_group(signal.SIGKILL)  # leftovers of a dead leader
            return
        self.signal_group(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)  # type: ignore[union-attr]
        except subprocess.TimeoutExpired:
            self.kill()
        self.signal_group(signal.SIGKILL)

    def log_since_start(self) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    async def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.running:
                with contextlib.suppress(Exception):
                    if await self.probe():
                        return True
            await asyncio.sleep(0.2)
        return False


class Supervisor:
    """Restarts a service that exits while it should run, after ``delay`` seconds."""

    def __init__(self, clock: Callable[[], float], *, delay: float = 1.0) -> None:
        self.services: dict[str, Service] = {}
        self.exits: list[Exit] = []
        self.clock = clock
        self.delay = delay
        self._task: asyncio.Task | None = None
        self._stopping = False

    def add(self, service: Service) -> Service:
        self.services[service.name] = service
        return service

    def start_watching(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="supervisor")

    async def _watch(self) -> None:
        while not self._stopping:
            for service in list(self.services.values()):
                if service.held_down or service.process is None or service.running:
                    continue
                self.exits.append(
                    Exit(
                        service.name,
                        round(self.clock(), 2),
                        service.process.returncode,
                        last_exception(service.log_since_start()),
                    )
                )
                service.signal_group(signal.SIGKILL)  # children left behind, if any
                await asyncio.sleep(self.delay)
                if not service.held_down and not self._stopping:
                    service.start()
            await asyncio.sleep(0.25)

    async def stop_all(self, order: list[str]) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        names = order + [n for n in self.services if n not in order]
        for name in names:
            service = self.services.get(name)
            if service is not None:
                await asyncio.to_thread(service.stop)


# --- Probes ---------------------------------------------------------------------------------


def tcp_probe(port: int, *, expect: bytes = b"") -> Probe:
    """The port accepts a connection (and its first bytes start with ``expect``)."""

    async def probe() -> bool:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        try:
            if expect:
                return (await asyncio.wait_for(reader.read(len(expect)), 1)) == expect
            return True
        finally:
            writer.close()

    return probe


def redis_probe(port: int) -> Probe:
    async def probe() -> bool:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 1)
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            return (await asyncio.wait_for(reader.readline(), 1)).startswith(b"+PONG")
        finally:
            writer.close()

    return probe


def http_probe(url: str) -> Probe:
    async def probe() -> bool:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(url)).status_code == 200

    return probe


def postgres_probe(url: str) -> Probe:
    async def probe() -> bool:
        import asyncpg

        conn = await asyncpg.connect(url, timeout=2)
        try:
            return await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()

    return probe


def log_probe(service_name: str, services: dict[str, Service], marker: str) -> Probe:
    """The current process of the service has written ``marker`` to its log."""

    async def probe() -> bool:
        return marker in services[service_name].log_since_start()

    return probe


# --- PostgreSQL cluster ----------------------------------------------------------------------


def init_cluster(bin_dir: Path, root: Path) -> tuple[Path, str | None]:
    """``initdb`` a throwaway cluster under ``root`` (trust auth, superuser postgres);
    as the ``postgres`` user when we are root, since initdb refuses to run as root.
    Returns the data directory and the user to run the server as."""
    user = "postgres" if is_root() else None
    base = root / "postgres"
    base.mkdir(parents=True)
    if user is not None:
        import pwd

        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data = base / "data"
    result = subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        user=user,
        cwd=base,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed: {result.stderr.strip()}")
    return data, user


def postgres_argv(bin_dir: Path, data: Path, port: int) -> list[str]:
    return [
        str(bin_dir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(data.parent),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "max_connections=200",
    ]
