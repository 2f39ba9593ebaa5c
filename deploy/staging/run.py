"""The staging run itself: bring the production process layout up natively, drive the load
while the schedule kills and restarts components, let the system settle, check, report.

Layout (every process on loopback, in a temporary directory):

    load ──▶ Caddy (or the fallback proxy) ──▶ replica-a, replica-b (tec serve)
                                                    │            │
    PostgreSQL (own cluster) ◀──────────────────────┴── worker (tec worker) ──▶ search index
    Redis (own, no persistence) ◀── replicas' rate limits     mailer (tec mailer) ──▶ SMTP sink
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.staging import checks, report
from deploy.staging.load import (
    CREATE_ISSUE,
    OPEN_ROUND,
    SCHEDULE,
    SIGN_IN,
    THEMES,
    Accounts,
    Client,
    Clock,
    Load,
    Recorder,
    burst,
    gather_quietly,
    retry,
    stop_tasks,
)
from deploy.staging.plan import Profile, Timeline
from deploy.staging.processes import (
    Binaries,
    Service,
    Supervisor,
    free_port,
    http_probe,
    init_cluster,
    log_probe,
    postgres_argv,
    postgres_probe,
    redis_probe,
    tcp_probe,
)

ROOT = Path(__file__).resolve().parents[2]
TEC = str(Path(sys.executable).parent / "tec")
PASSWORD = "répétition générale sous pannes"
EDITOR = "redaction@staging.example"
STOP_ORDER = ["proxy", "replica-a", "replica-b", "worker", "mailer", "smtp", "redis", "postgres"]


@dataclass
class Options:
    profile: Profile
    proxy: str
    """``caddy`` or ``python``."""
    report_dir: Path
    keep: bool = False


@dataclass
class Seeded:
    territories: dict[str, int]
    """Slug → primary key of the voting local authorities."""
    api_key: str
    segment_theme: str
    """Global ID of the theme that makes the issue's segment."""
    recipients: list[str]


class Stack:
    def __init__(self, options: Options, binaries: Binaries, root: Path, clock: Clock) -> None:
        self.options = options
        self.binaries = binaries
        self.root = root
        self.logs = root / "logs"
        self.clock = clock
        self.supervisor = Supervisor(clock.now)
        self.ports = {
            name: free_port()
            for name in ("postgres", "redis", "smtp", "replica-a", "replica-b", "proxy")
        }
        self.database_url = f"postgres://postgres@127.0.0.1:{self.ports['postgres']}/tec"
        self.search_path = root / "search"
        self.sink = root / "sink.sqlite3"
        self.proxy_url = f"http://127.0.0.1:{self.ports['proxy']}"
        self.secret = secrets.token_hex(24)
        self.run_tag = secrets.token_hex(3)

    # --- environment --------------------------------------------------------------------

    def tec_env(self, **extra: str) -> dict[str, str]:
        p = self.options.profile
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEC_")}
        env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT),
                "TEC_ENVIRONMENT": "production",
                "TEC_SIGNING_SECRET": self.secret,
                "TEC_DATABASE_URL": self.database_url,
                "TEC_PUBLIC_URL": self.proxy_url,
                "TEC_REDIS_URL": f"redis://127.0.0.1:{self.ports['redis']}/0",
                "TEC_SEARCH_ENGINE": "embedded",
                "TEC_SEARCH_PATH": str(self.search_path),
                "TEC_SEARCH_POLL_INTERVAL": "0.5",
                "TEC_SMTP_HOST": "127.0.0.1",
                "TEC_SMTP_PORT": str(self.ports["smtp"]),
                "TEC_MAIL_RATE": str(p.mail_rate),
                "TEC_MAIL_BATCH_SIZE": str(p.mail_batch_size),
                "TEC_MAIL_LEASE_SECONDS": str(p.mail_lease_seconds),
                "TEC_MAIL_POLL_INTERVAL": "1",
                "TEC_MAIL_RETRY_BACKOFF": "2",
                "TEC_MAIL_DIRECTORY": str(self.root / "mail"),
                # Behind the load balancer on loopback: the client is the right-most
                # X-Forwarded-For hop that is not the balancer.
                "TEC_TRUSTED_PROXIES": "127.0.0.1/32,::1",
                "TEC_RATE_LIMIT_ANONYMOUS": str(p.anonymous_budget),
                "TEC_RATE_LIMIT_WINDOW": str(p.rate_window),
                "TEC_RATE_LIMIT_ACCOUNT": "1000000",
                "TEC_RATE_LIMIT_API_KEY": "1000000",
                "TEC_FIELD_SUGGESTIONS": "false",
                "TEC_LOG_LEVEL": "warning",
            }
        )
        env.update(extra)
        return env

    def tec(self, *args: str, stdin: str | None = None) -> str:
        """Run a one-off ``tec`` command (migrations, demo data, an account)."""
        result = subprocess.run(
            [TEC, *args],
            env=self.tec_env(TEC_LOG_LEVEL="info"),
            cwd=self.root,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        with (self.logs / "setup.log").open("a", encoding="utf-8") as log:
            log.write(f"$ tec {' '.join(args)}\n{result.stdout}{result.stderr}\n")
        if result.returncode != 0:
            raise RuntimeError(f"tec {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    # --- services -------------------------------------------------------------------------

    def _service(
        self, name: str, argv: list[str], env: dict[str, str], probe: Any, **kw: Any
    ) -> Service:
        return self.supervisor.add(
            Service(name, argv, env, self.logs / f"{name}.log", probe, cwd=self.root, **kw)
        )

    def define(self) -> None:
        b, ports, services = self.binaries, self.ports, self.supervisor.services
        data, user = init_cluster(b.postgres_bin, self.root)
        admin_url = f"postgres://postgres@127.0.0.1:{ports['postgres']}/postgres"
        self._service(
            "postgres",
            postgres_argv(b.postgres_bin, data, ports["postgres"]),
            {k: v for k, v in os.environ.items() if not k.startswith("PG")},
            postgres_probe(admin_url),
            user=user,
        )
        self._service(
            "redis",
            [
                str(b.redis_server),
                "--port",
                str(ports["redis"]),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            dict(os.environ),
            redis_probe(ports["redis"]),
        )
        self._service(
            "smtp",
            [
                sys.executable,
                "-m",
                "deploy.staging.smtp_sink",
                "--port",
                str(ports["smtp"]),
                "--database",
                str(self.sink),
            ],
            self.tec_env(),
            tcp_probe(ports["smtp"], expect=b"220"),
        )
        for name in ("replica-a", "replica-b"):
            self._service(
                name,
                [TEC, "serve", "--no-migrate"],
                self.tec_env(TEC_PORT=str(ports[name]), TEC_SEARCH_WORKER="false"),
                http_probe(f"http://127.0.0.1:{ports[name]}/readyz"),
            )
        self._service(
            "worker",
            [TEC, "worker"],
            self.tec_env(TEC_LOG_LEVEL="info"),
            log_probe("worker", services, "Search worker"),
        )
        self._service(
            "mailer",
            [TEC, "mailer"],
            self.tec_env(TEC_LOG_LEVEL="info"),
            log_probe("mailer", services, "Mail sender started"),
        )
        upstreams = [f"127.0.0.1:{ports['replica-a']}", f"127.0.0.1:{ports['replica-b']}"]
        if self.options.proxy == "caddy":
            assert b.caddy is not None
            env = {
                **os.environ,
                "HOME": str(self.root),
                "XDG_DATA_HOME": str(self.root / "caddy"),
                "XDG_CONFIG_HOME": str(self.root / "caddy"),
                "STAGING_PROXY_PORT": str(ports["proxy"]),
                "STAGING_UPSTREAMS": " ".join(upstreams),
            }
            argv = [
                str(b.caddy),
                "run",
                "--config",
                str(ROOT / "deploy/staging/Caddyfile"),
                "--adapter",
                "caddyfile",
            ]
        else:
            env = self.tec_env()
            argv = [sys.executable, "-m", "deploy.staging.proxy", "--port", str(ports["proxy"])]
            for upstream in upstreams:
                argv += ["--upstream", upstream]
        self._service("proxy", argv, env, tcp_probe(ports["proxy"]))

    async def start(self, *names: str, timeout: float = 60) -> None:
        services = [self.supervisor.services[n] for n in names]
        for service in services:
            service.start()
        for service in services:
            if not await service.wait_ready(timeout):
                raise RuntimeError(
                    f"{service.name} did not become ready in {timeout:.0f} s:\n"
                    + service.log_since_start()[-3000:]
                )

    async def create_database(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            f"postgres://postgres@127.0.0.1:{self.ports['postgres']}/postgres"
        )
        try:
            await conn.execute("CREATE DATABASE tec")
        finally:
            await conn.close()

    def settings(self) -> Any:
        from services.settings import Settings

        return Settings(database_url=self.database_url, search_path=self.search_path)

    async def seed(self) -> Seeded:
        """What the load needs and the API does not make quickly: confirmed subscribers
        (confirmation links are not followed here), accounts of local authorities, an API
        key, the theme that makes the issue's segment."""
        from schema.relay import to_global_id
        from services import db
        from services.accounts import service as accounts
        from services.editing import now
        from services.organizations.models import Organization
        from services.subscribers.models import Subscriber, SubscriberStatus, SubscriberTheme
        from services.territories.models import Territory
        from services.themes.models import Theme

        p = self.options.profile
        async with db.database(self.settings().database):
            theme = await Theme.create(
                slug=f"segment-repetition-{self.run_tag}", title="Segment de la répétition"
            )
            emails = [f"abonne-{self.run_tag}-{i}@example.org" for i in range(p.subscribers)]
            await Subscriber.bulk_create(
                [
                    Subscriber(
                        email=email,
                        name=f"Abonné {i}",
                        status=SubscriberStatus.CONFIRMED,
                        consent_at=now(),
                        confirmed_at=now(),
                        consent_ip="198.51.100.1",
                        consent_source="staging",
                        consent_wording_version="staging",
                    )
                    for i, email in enumerate(emails)
                ],
                batch_size=500,
            )
            ids = await Subscriber.filter(email__in=emails).values_list("id", flat=True)
            await SubscriberTheme.bulk_create(
                [SubscriberTheme(subscriber_id=i, theme_id=theme.id) for i in ids], batch_size=500
            )
            territories = {}
            for territory in await Territory.all().order_by("id").limit(p.territories):
                await accounts.create_account(
                    f"elu-{territory.slug}-{self.run_tag}@staging.example",
                    password=PASSWORD,
                    role="local-authority",
                    territory_slug=territory.slug,
                )
                territories[territory.slug] = territory.id
            organization = await Organization.all().order_by("id").first()
            assert organization is not None, "the demo data has organisations"
            _, api_key = await accounts.create_api_key(
                organization.slug, scopes=["read"], name="staging"
            )
        return Seeded(territories, api_key, to_global_id("Theme", theme.id), emails)

    async def sign_in(self, client: Client, seeded: Seeded) -> Accounts:
        async def sign(email: str) -> str:
            outcome = await retry(
                lambda: client.gql(
                    "setup", SIGN_IN, {"email": email, "password": PASSWORD}, record=False
                )
            )
            if not outcome.ok:
                raise RuntimeError(f"sign-in of {email} failed: {outcome.code}")
            return outcome.data["signIn"]["token"]  # type: ignore[index]

        editor = await sign(EDITOR)
        voters = {
            slug: await sign(f"elu-{slug}-{self.run_tag}@staging.example")
            for slug in seeded.territories
        }
        themes = await retry(lambda: client.gql("setup", THEMES, record=False))
        candidates = [n["id"] for n in themes.data["themes"]["nodes"]][:5]  # type: ignore[index]
        at = dt.datetime.now(dt.UTC)
        opened = await retry(
            lambda: client.gql(
                "setup",
                OPEN_ROUND,
                {
                    "input": {
                        "title": f"Répétition générale {self.run_tag}",
                        "opensAt": (at - dt.timedelta(minutes=1)).isoformat(),
                        "closesAt": (at + dt.timedelta(days=1)).isoformat(),
                        "votesPerTerritory": 3,
                        "candidates": candidates,
                    }
                },
                token=editor,
                record=False,
            )
        )
        if not opened.ok:
            raise RuntimeError(f"opening the voting round failed: {opened.code}")
        return Accounts(
            editor_token=editor,
            api_key=seeded.api_key,
            voters=voters,
            round_id=opened.data["openVotingRound"]["votingRound"]["id"],  # type: ignore[index]
            candidates=candidates,
            votes_per_territory=3,
        )


# --- The scheduled faults and actions --------------------------------------------------------


async def inject(stack: Stack, fault: Any, timeline: Timeline) -> None:
    service = stack.supervisor.services[fault.target]
    clock = stack.clock
    await clock.until(fault.at)
    record: dict[str, Any] = {
        "target": fault.target,
        "killed_at": clock.now(),
        "outage": fault.outage,
    }
    timeline.faults.append(record)
    service.held_down = True
    await asyncio.to_thread(service.kill)
    await clock.until(record["killed_at"] + fault.outage)
    service.start()
    record["restarted_at"] = round(clock.now(), 2)
    service.held_down = False
    ready = await service.wait_ready(timeout=90)
    record["ready_at"] = round(clock.now(), 2) if ready else None
    record["killed_at"] = round(record["killed_at"], 2)


async def act(
    stack: Stack, action: Any, client: Client, accounts: Accounts, seeded: Seeded, state: dict
) -> None:
    clock, p = stack.clock, stack.options.profile
    await clock.until(action.at)
    started = clock.now()
    entry: dict[str, Any] = {"name": action.name, "at": round(started, 2)}
    if action.name == "burst":
        n = len(state["bursts"]) + 1
        result = await burst(
            client,
            address=f"192.0.2.{10 + n}",
            requests=p.burst_requests,
            window=p.rate_window,
        )
        result["at"] = round(clock.now(), 1)
        state["bursts"].append(result)
        entry.update(result)
    elif action.name == "newsletter":
        from schema.relay import from_global_id

        created = await retry(
            lambda: client.gql(
                "setup",
                CREATE_ISSUE,
                {
                    "input": {
                        "title": f"Numéro de la répétition {stack.run_tag}",
                        "themes": [seeded.segment_theme],
                    }
                },
                token=accounts.editor_token,
                record=False,
            ),
            attempts=10,
        )
        if created.ok:
            issue_id = created.data["createNewsletterIssue"]["issue"]["id"]  # type: ignore[index]
            scheduled = await retry(
                lambda: client.gql(
                    "setup",
                    SCHEDULE,
                    {"id": issue_id, "at": dt.datetime.now(dt.UTC).isoformat()},
                    token=accounts.editor_token,
                    record=False,
                ),
                attempts=10,
            )
            entry["scheduled"] = scheduled.ok
            entry["code"] = scheduled.code
            if scheduled.ok:
                state["issue_pk"] = from_global_id(issue_id)[1]
        else:
            entry["scheduled"] = False
            entry["code"] = created.code
    entry["took_s"] = round(clock.now() - started, 2)
    state["timeline"].actions.append(entry)


# --- The whole run ---------------------------------------------------------------------------


def _versions(binaries: Binaries, proxy: str) -> dict[str, str]:
    def first_line(*argv: str) -> str:
        with contextlib.suppress(Exception):
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        return "?"

    return {
        "postgres": first_line(str(binaries.postgres_bin / "postgres"), "--version"),
        "redis": first_line(str(binaries.redis_server), "--version"),
        "proxy": first_line(str(binaries.caddy), "version") if proxy == "caddy" else "python",
    }


async def run(options: Options, binaries: Binaries) -> int:
    profile = options.profile
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    root = Path(tempfile.mkdtemp(prefix="tec-staging-"))
    root.chmod(0o755)  # the postgres user reaches its cluster below
    (root / "logs").mkdir()
    clock = Clock()
    stack = Stack(options, binaries, root, clock)
    timeline = Timeline()
    state: dict[str, Any] = {"bursts": [], "issue_pk": None, "timeline": timeline}
    recorder = Recorder()
    client: Client | None = None
    started = time.monotonic()
    setup: dict[str, float] = {}
    load_started_at = ""

    def step(name: str, message: str) -> None:
        setup[name] = round(time.monotonic() - started, 1)
        print(f"  {setup[name]:6.1f} s  {message}", flush=True)

    print(f"staging ({profile.name}): stack in {root}", flush=True)
    try:
        stack.define()
        step("initdb", "PostgreSQL cluster initialised")
        await stack.start("postgres", "redis", "smtp")
        await stack.create_database()
        step("databases", "PostgreSQL, Redis, SMTP sink up")
        stack.tec("demo")
        step("demo", "tec demo: migrations, demo data, search index")
        stack.tec(
            "user",
            "create",
            "--email",
            EDITOR,
            "--role",
            "editor",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        step("editor", "tec user create: the editor")
        seeded = await stack.seed()
        step("seed", f"{profile.subscribers} subscribers, local authorities, an API key")
        await stack.start("replica-a", "replica-b", "worker", "mailer", "proxy")
        step("processes", f"replicas, worker, mailer, {options.proxy} up")
        client = Client(stack.proxy_url, clock, recorder)
        accounts = await stack.sign_in(client, seeded)
        step("accounts", "signed in through the load balancer, voting round open")

        load = Load(client, clock, accounts, profile=profile, run_tag=stack.run_tag)
        clock.start()
        load_started_at = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        stack.supervisor.start_watching()
        print(
            f"  load for {profile.load_seconds:.0f} s; faults at "
            + ", ".join(f"{f.at:.0f} s {f.target}" for f in profile.faults),
            flush=True,
        )
        tasks = [asyncio.create_task(job) for job in load.actors()]
        tasks += [asyncio.create_task(inject(stack, f, timeline)) for f in profile.faults]
        tasks += [
            asyncio.create_task(act(stack, a, client, accounts, seeded, state))
            for a in profile.actions
        ]
        try:
            await asyncio.wait(tasks, timeout=profile.load_seconds + 120)
        finally:
            stop_tasks(tasks)
            await gather_quietly(tasks)
        crashed = [t.exception() for t in tasks if not t.cancelled() and t.exception()]
        if crashed:
            raise crashed[0]  # type: ignore[misc]

        print(f"  load over: {len(recorder.outcomes)} requests; settling", flush=True)
        from services import db

        mailer_deaths = sorted(
            [f["killed_at"] for f in timeline.faults if f["target"] == "mailer"]
            + [e.at for e in stack.supervisor.exits if e.service == "mailer"]
        )
        async with db.database(stack.settings().database):
            settled = await checks.settle(state["issue_pk"], timeout=profile.settle_seconds)
            results = [
                await checks.acknowledged_writes(
                    load.ledger, round_id=accounts.round_id, territories=seeded.territories
                ),
                await checks.search_converges(stack.search_path, settled),
                await checks.newsletter_once(
                    issue_pk=state["issue_pk"],
                    recipients=seeded.recipients,
                    sink=stack.sink,
                    batch_size=profile.mail_batch_size,
                    sender_deaths=mailer_deaths,
                    database_restarts=[
                        f["killed_at"] for f in timeline.faults if f["target"] == "postgres"
                    ],
                    epoch=clock.epoch,
                    settled=settled,
                ),
                checks.rate_limit_held(state["bursts"], budget=profile.anonymous_budget),
                checks.steady_state(recorder.outcomes, timeline),
            ]
    finally:
        if client is not None:
            await client.close()
        await stack.supervisor.stop_all(STOP_ORDER)
        logs = options.report_dir / f"{stamp}-{profile.name}-logs"
        with contextlib.suppress(OSError):
            shutil.copytree(root / "logs", logs, dirs_exist_ok=True)
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)

    meta = {
        "started_at": stamp,
        "load_started_at": load_started_at,
        "setup_seconds": setup,
        "wall_seconds": round(time.monotonic() - started, 1),
        "proxy": "Caddy" if options.proxy == "caddy" else "the fallback Python proxy",
        "versions": _versions(binaries, options.proxy),
        "logs": str(logs),
    }
    document = report.build(
        profile=profile,
        meta=meta,
        outcomes=recorder.outcomes,
        timeline=timeline,
        exits=stack.supervisor.exits,
        checks=results,
        settled=settled,
    )
    path = report.write(document, options.report_dir, f"{stamp}-{profile.name}")
    print()
    print(report.render(document))
    print(f"\nReport: {path}\nLogs: {logs}", flush=True)
    return 0 if document["passed"] else 1
