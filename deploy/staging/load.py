"""The staging load: anonymous portal reads, partner reads, editors' writes, votes of local
authorities and newsletter subscriptions, all through the load balancer; every answer is
recorded with when it started, and every acknowledged write goes into a client-side ledger
that the checks compare with the database afterwards.

An answer is *ok* (HTTP 200, data, no error: the write is acknowledged), *refused* (the
server answered with a coded refusal — RATE_LIMITED, CONFLICT, ALREADY_VOTED…: nothing was
written) or *failed* (no answer, a proxy error, INTERNAL_SERVER_ERROR: a write may or may not
have been committed, so the ledger marks it unconfirmed and the writer re-reads the state).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.queries import PORTAL, PORTAL_VARIABLES
from deploy.staging.plan import Profile

# Coded refusals: the server decided, in a transaction that wrote nothing.
REFUSALS = {
    "RATE_LIMITED",
    "BAD_USER_INPUT",
    "CONFLICT",
    "NOT_FOUND",
    "FORBIDDEN",
    "UNAUTHENTICATED",
    "ALREADY_VOTED",
    "VOTE_LIMIT_REACHED",
    "ROUND_CLOSED",
    "ROUND_NOT_OPEN",
    "NOT_A_CANDIDATE",
    "SEAT_TAKEN",
    "ALREADY_MEMBER",
    "GRAPHQL_VALIDATION_FAILED",
    "GRAPHQL_PARSE_FAILED",
}

SIGN_IN = """mutation SignIn($email: String!, $password: String!) {
  signIn(email: $email, password: $password) { token errors { field code message } }
}"""
CREATE = """mutation Create($input: ResourceCreateInput!) {
  createResource(input: $input) {
    resource { id version title status } errors { field code message }
  }
}"""
UPDATE = """mutation Update($id: ID!, $version: Int!, $input: ResourceUpdateInput!) {
  updateResource(id: $id, version: $version, input: $input) {
    resource { id version title status } errors { field code message }
  }
}"""
PUBLISH = """mutation Publish($id: ID!, $version: Int!) {
  publish(id: $id, version: $version) {
    node { ... on Resource { id version title status } } errors { field code message }
  }
}"""
UNPUBLISH = """mutation Unpublish($id: ID!, $version: Int!) {
  unpublish(id: $id, version: $version) {
    node { ... on Resource { id version title status } } errors { field code message }
  }
}"""
READ_RESOURCE = """query Resource($id: ID!) {
  node(id: $id) { ... on Resource { id version title status } }
}"""
CAST = """mutation Cast($round: ID!, $theme: ID!) {
  castVote(round: $round, theme: $theme) { votingRound { id } errors { field code message } }
}"""
WITHDRAW = """mutation Withdraw($round: ID!, $theme: ID!) {
  withdrawVote(round: $round, theme: $theme) { votingRound { id } errors { field code message } }
}"""
SUBSCRIBE = """mutation Subscribe($input: SubscribeInput!) {
  subscribe(input: $input) { message errors { field code message } }
}"""
THEMES = """{ themes(first: 20) { nodes { id title } } }"""
OPEN_ROUND = """mutation Open($input: VotingRoundInput!) {
  openVotingRound(input: $input) { votingRound { id } errors { field code message } }
}"""
CREATE_ISSUE = """mutation Issue($input: NewsletterIssueCreateInput!) {
  createNewsletterIssue(input: $input) { issue { id version } errors { field code message } }
}"""
SCHEDULE = """mutation Schedule($id: ID!, $at: DateTime!) {
  scheduleNewsletter(id: $id, at: $at) { issue { id status } errors { field code message } }
}"""


class Clock:
    """Seconds since the start of the load (negative before it)."""

    def __init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.t0 = time.monotonic()
        self.epoch = time.time()
        """Unix time of the start (to place other clocks' timestamps on this one)."""

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def until(self, t: float) -> None:
        delay = t - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class Outcome:
    kind: str
    started: float
    elapsed: float
    code: str
    """``ok``, a GraphQL error code, ``http-502``, or a transport exception's name."""
    category: str
    """``ok``, ``refused`` or ``failed``."""
    upstream: str = ""
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.category == "ok"

    @property
    def span(self) -> tuple[float, float]:
        """When it started and ended, in seconds from the start of the load."""
        return self.started, self.started + self.elapsed


def classify(status: int, body: Any) -> tuple[str, str]:
    """(code, category) of an HTTP answer."""
    errors = body.get("errors") if isinstance(body, dict) else None
    code = ""
    if errors:
        code = str((errors[0].get("extensions") or {}).get("code") or "ERROR")
    elif status == 200 and isinstance(body, dict) and isinstance(body.get("data"), dict):
        # A mutation's refusal is data: its payload's user errors.
        for answer in body["data"].values():
            if isinstance(answer, dict) and answer.get("errors"):
                code = str(answer["errors"][0].get("code") or "ERROR")
                return code, ("refused" if code in REFUSALS else "failed")
    if status == 200 and isinstance(body, dict) and body.get("data") and not errors:
        return "ok", "ok"
    if status == 429:
        return "RATE_LIMITED", "refused"
    if status >= 500 or not code:
        return (f"http-{status}" + (f" {code}" if code else "")), "failed"
    return code, ("refused" if code in REFUSALS else "failed")


class Recorder:
    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []

    def add(self, outcome: Outcome) -> Outcome:
        self.outcomes.append(outcome)
        return outcome


class Client:
    """One HTTP client for the whole load, through the load balancer."""

    def __init__(self, base_url: str, clock: Clock, recorder: Recorder) -> None:
        self.url = base_url.rstrip("/") + "/graphql"
        self.clock = clock
        self.recorder = recorder
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=3.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def gql(
        self,
        kind: str,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        client_ip: str | None = None,
        record: bool = True,
    ) -> Outcome:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if client_ip:
            headers["X-Forwarded-For"] = client_ip
        started = self.clock.now()
        t = time.monotonic()
        try:
            response = await self.http.post(
                self.url, json={"query": query, "variables": variables or {}}, headers=headers
            )
        except httpx.HTTPError as error:
            outcome = Outcome(kind, started, time.monotonic() - t, type(error).__name__, "failed")
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            code, category = classify(response.status_code, body)
            outcome = Outcome(
                kind,
                started,
                time.monotonic() - t,
                code,
                category,
                upstream=response.headers.get("x-staging-upstream", ""),
                data=body.get("data") if isinstance(body, dict) else None,
            )
        return self.recorder.add(outcome) if record else outcome


def fake_clients(count: int) -> list[str]:
    """Client addresses of the anonymous load (RFC 2544 benchmarking range, header only:
    nothing is ever sent there)."""
    return [f"198.18.{i // 250}.{i % 250 + 1}" for i in range(count)]


# --- The ledger of acknowledged writes ----------------------------------------------------


@dataclass
class ResourceRecord:
    id: str
    slug: str
    acked: tuple[int, str, str]
    """(version, title, status) last acknowledged or read back."""
    unconfirmed: list[tuple[int, str, str]] = field(default_factory=list)
    """States of writes sent since, whose answer was lost: each may have been committed."""
    needs_sync: bool = False
    acked_writes: int = 1


@dataclass
class Ledger:
    resources: dict[str, ResourceRecord] = field(default_factory=dict)
    unconfirmed_creates: list[str] = field(default_factory=list)
    """Slugs of creations whose answer was lost."""
    votes: dict[tuple[str, str], str] = field(default_factory=dict)
    """(territory slug, theme id) → ``voted``, ``absent`` or ``unknown``, as last learnt."""
    acked_casts: int = 0
    acked_withdrawals: int = 0
    subscriptions: dict[str, str] = field(default_factory=dict)
    """Acknowledged subscriptions: e-mail → client address sent."""
    unconfirmed_subscriptions: list[str] = field(default_factory=list)


# --- Actors -------------------------------------------------------------------------------


@dataclass
class Accounts:
    editor_token: str
    api_key: str
    voters: dict[str, str]
    """Territory slug → bearer token of one of its members."""
    round_id: str
    candidates: list[str]
    votes_per_territory: int


class Load:
    def __init__(
        self,
        client: Client,
        clock: Clock,
        accounts: Accounts,
        *,
        profile: Profile,
        run_tag: str,
    ) -> None:
        self.client = client
        self.clock = clock
        self.accounts = accounts
        self.profile = profile
        self.run_tag = run_tag
        self.ledger = Ledger()
        self.end = profile.load_seconds
        self.addresses = fake_clients(profile.fake_clients)
        self._address = itertools.cycle(self.addresses)
        self._serial = itertools.count(1)

    def next_address(self) -> str:
        return next(self._address)

    async def _paced(self, interval: float, rng: random.Random) -> AsyncIterator[None]:
        """Yields every ``interval`` seconds (jittered) until the end of the load."""
        due = self.clock.now() + rng.uniform(0, interval)
        while True:
            await self.clock.until(due)
            if self.clock.now() >= self.end:
                return
            yield None
            due = max(due + interval * rng.uniform(0.8, 1.2), self.clock.now())

    def actors(self) -> list[Any]:
        p = self.profile
        jobs = [self.reader(i) for i in range(p.readers)]
        jobs += [self.key_reader(i) for i in range(p.key_readers)]
        jobs += [self.editor(i) for i in range(p.editors)]
        jobs += [self.voter(slug, token) for slug, token in self.accounts.voters.items()]
        jobs.append(self.subscriber())
        return jobs

    async def reader(self, n: int) -> None:
        rng = random.Random(self.profile.seed * 31 + n)
        async for _ in self._paced(self.profile.reader_interval, rng):
            await self.client.gql("read", PORTAL, PORTAL_VARIABLES, client_ip=self.next_address())

    async def key_reader(self, n: int) -> None:
        rng = random.Random(self.profile.seed * 37 + n)
        async for _ in self._paced(self.profile.key_reader_interval, rng):
            await self.client.gql("read-key", PORTAL, PORTAL_VARIABLES, token=self.accounts.api_key)

    # Editors: each owns the resources it creates, so no CONFLICT is expected unless a
    # lost answer hid a committed write (then it re-reads before writing again).

    async def editor(self, n: int) -> None:
        rng = random.Random(self.profile.seed * 41 + n)
        current: ResourceRecord | None = None
        left = 0
        async for _ in self._paced(self.profile.editor_interval, rng):
            if current is not None and current.needs_sync:
                await self._resync(current)
                continue
            if current is None or left <= 0:
                current = await self._create(n, rng)
                left = rng.randint(3, 6)
                continue
            left -= 1
            _, _, status = current.acked
            if status == "PUBLISHED":
                op = "unpublish" if rng.random() < 0.15 else "update"
            else:
                op = "publish" if rng.random() < 0.5 else "update"
            await self._write(current, op)

    async def _create(self, n: int, rng: random.Random) -> ResourceRecord | None:
        serial = next(self._serial)
        slug = f"staging-{self.run_tag}-{n}-{serial}"
        title = f"Ressource de répétition {n}-{serial} v1"
        outcome = await self.client.gql(
            "create",
            CREATE,
            {
                "input": {
                    "title": title,
                    "slug": slug,
                    "kind": rng.choice(["GUIDE", "EXPERIENCE", "TOOLKIT", "REPORT"]),
                    "summary": "Écrite pendant la répétition générale, sous pannes.",
                    "url": f"https://example.org/{slug}",
                }
            },
            token=self.accounts.editor_token,
        )
        if outcome.ok:
            node = outcome.data["createResource"]["resource"]  # type: ignore[index]
            record = ResourceRecord(
                node["id"], slug, (node["version"], node["title"], node["status"])
            )
            self.ledger.resources[record.id] = record
            return record
        if outcome.category == "failed":
            self.ledger.unconfirmed_creates.append(slug)
        return None

    async def _write(self, record: ResourceRecord, op: str) -> None:
        version, title, status = record.acked
        base = title.rsplit(" v", 1)[0]
        if op == "update":
            target = (version + 1, f"{base} v{version + 1}", status)
            outcome = await self.client.gql(
                "update",
                UPDATE,
                {"id": record.id, "version": version, "input": {"title": target[1]}},
                token=self.accounts.editor_token,
            )
            field_name, object_name = "updateResource", "resource"
        else:
            target = (version + 1, title, "PUBLISHED" if op == "publish" else "DRAFT")
            outcome = await self.client.gql(
                op,
                PUBLISH if op == "publish" else UNPUBLISH,
                {"id": record.id, "version": version},
                token=self.accounts.editor_token,
            )
            field_name, object_name = op, "node"
        if outcome.ok:
            node = outcome.data[field_name][object_name]  # type: ignore[index]
            record.acked = (node["version"], node["title"], node["status"])
            record.unconfirmed.clear()
            record.acked_writes += 1
        elif outcome.category == "failed":
            record.unconfirmed.append(target)
            record.needs_sync = True
        else:  # a refusal: nothing written, but our view may be stale
            record.needs_sync = True

    async def _resync(self, record: ResourceRecord) -> None:
        outcome = await self.client.gql(
            "re-read", READ_RESOURCE, {"id": record.id}, token=self.accounts.editor_token
        )
        if outcome.ok and outcome.data and outcome.data.get("node"):
            node = outcome.data["node"]
            record.acked = (node["version"], node["title"], node["status"])
            record.unconfirmed.clear()
            record.needs_sync = False

    # Votes: one voter per local authority, casting and withdrawing among the candidates.

    async def voter(self, territory: str, token: str) -> None:
        rng = random.Random(f"{self.profile.seed}-{territory}")
        ledger = self.ledger.votes
        themes = self.accounts.candidates
        limit = self.accounts.votes_per_territory
        async for _ in self._paced(self.profile.voter_interval, rng):
            states = {t: ledger.get((territory, t), "absent") for t in themes}
            held = [t for t, s in states.items() if s != "absent"]
            theme = rng.choice(held) if len(held) >= limit else rng.choice(themes)
            state = states[theme]
            cast = state == "absent" or (state == "unknown" and rng.random() < 0.5)
            outcome = await self.client.gql(
                "vote" if cast else "withdraw",
                CAST if cast else WITHDRAW,
                {"round": self.accounts.round_id, "theme": theme},
                token=token,
            )
            key = (territory, theme)
            if outcome.ok:
                ledger[key] = "voted" if cast else "absent"
                if cast:
                    self.ledger.acked_casts += 1
                else:
                    self.ledger.acked_withdrawals += 1
            elif outcome.code == "ALREADY_VOTED":
                ledger[key] = "voted"
            elif outcome.code in ("NOT_FOUND", "VOTE_LIMIT_REACHED"):
                ledger[key] = "absent"
            elif outcome.category == "failed":
                ledger[key] = "unknown"

    async def subscriber(self) -> None:
        rng = random.Random(self.profile.seed * 43)
        async for _ in self._paced(self.profile.subscribers_interval, rng):
            email = f"abonnement-{self.run_tag}-{next(self._serial)}@example.org"
            address = self.next_address()
            outcome = await self.client.gql(
                "subscribe",
                SUBSCRIBE,
                {"input": {"email": email, "name": "Répétition", "source": "staging"}},
                client_ip=address,
            )
            if outcome.ok:
                self.ledger.subscriptions[email] = address
            elif outcome.category == "failed":
                self.ledger.unconfirmed_subscriptions.append(email)


# --- The rate-limit burst ---------------------------------------------------------------------


async def burst(
    client: Client, *, address: str, requests: int, window: int, concurrency: int = 10
) -> dict[str, Any]:
    """``requests`` anonymous portal queries from one client address, all inside one
    rate-limit window (the fixed windows start at multiples of ``window`` seconds of Unix
    time: a burst too close to the end of one waits for the next)."""
    left = window - time.time() % window
    if left < min(15.0, window / 2):
        await asyncio.sleep(left + 0.2)
    outcomes: list[Outcome] = []
    semaphore = asyncio.Semaphore(concurrency)
    window_start = int(time.time() // window)

    async def one() -> None:
        async with semaphore:
            outcomes.append(
                await client.gql("burst", PORTAL, PORTAL_VARIABLES, client_ip=address, record=False)
            )

    await asyncio.gather(*(one() for _ in range(requests)))
    codes: dict[str, int] = {}
    upstreams: dict[str, int] = {}
    for outcome in outcomes:
        codes[outcome.code] = codes.get(outcome.code, 0) + 1
        if outcome.upstream:
            upstreams[outcome.upstream] = upstreams.get(outcome.upstream, 0) + 1
    return {
        "address": address,
        "requests": requests,
        "ok": codes.get("ok", 0),
        "rate_limited": codes.get("RATE_LIMITED", 0),
        "codes": codes,
        "upstreams": upstreams,
        "one_window": int(time.time() // window) == window_start,
    }


async def retry(call: Any, *, attempts: int = 20, delay: float = 1.0) -> Outcome:
    """Retry a setup call (sign-in, opening the round…) until it is acknowledged."""
    outcome = None
    for _ in range(attempts):
        outcome = await call()
        if outcome.ok:
            return outcome
        await asyncio.sleep(delay)
    assert outcome is not None
    return outcome


def stop_tasks(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        if not task.done():
            task.cancel()


async def gather_quietly(tasks: list[asyncio.Task]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*tasks, return_exceptions=True)
