"""The staging report: what was served and what failed, per phase and per kind of
operation, the faults as they happened, and the checks — as compact tables for people
and as JSON under var/staging/ for comparison between runs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from deploy.staging.checks import Check
from deploy.staging.load import Outcome
from deploy.staging.plan import Timeline

GROUPS = {
    "read": "reads",
    "read-key": "reads",
    "create": "writes",
    "update": "writes",
    "publish": "writes",
    "unpublish": "writes",
    "re-read": "writes",
    "vote": "votes",
    "withdraw": "votes",
    "subscribe": "subscribe",
}
COLUMNS = ["reads", "writes", "votes", "subscribe"]


def _phases(timeline: Timeline) -> list[str]:
    names = ["steady"]
    for fault in timeline.faults:
        names += [f"{fault['target']} down", f"{fault['target']} recovery"]
    return names


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000, 1)


def served(outcomes: list[Outcome], timeline: Timeline) -> dict[str, Any]:
    """Counts per phase and kind: ok, refused, failed and the codes of the last two."""
    table: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for outcome in outcomes:
        cell = table[timeline.phase_of(*outcome.span)][outcome.kind]
        cell[outcome.category] += 1
        if outcome.category != "ok":
            cell[f"{outcome.category}:{outcome.code}"] += 1
    return {phase: {kind: dict(c) for kind, c in kinds.items()} for phase, kinds in table.items()}


def build(
    *,
    profile: Any,
    meta: dict[str, Any],
    outcomes: list[Outcome],
    timeline: Timeline,
    exits: list[Any],
    checks: list[Check],
    settled: dict[str, Any],
) -> dict[str, Any]:
    latency: dict[str, dict[str, float]] = {}
    by_kind: dict[str, list[float]] = defaultdict(list)
    replicas: Counter = Counter()
    for outcome in outcomes:
        if outcome.ok:
            by_kind[outcome.kind].append(outcome.elapsed)
        if outcome.upstream:
            replicas[outcome.upstream] += 1
    for kind, values in by_kind.items():
        latency[kind] = {"p50_ms": _percentile(values, 0.5), "p99_ms": _percentile(values, 0.99)}
    return {
        **meta,
        "profile": {k: v for k, v in vars(profile).items() if k not in ("faults", "actions")},
        "timeline": {"faults": timeline.faults, "actions": timeline.actions},
        "served": served(outcomes, timeline),
        "requests": len(outcomes),
        "served_by_replica": dict(replicas),
        "not_ok": [
            {
                "t": round(o.started, 2),
                "phase": timeline.phase_of(*o.span),
                "kind": o.kind,
                "code": o.code,
                "upstream": o.upstream,
            }
            for o in outcomes
            if not o.ok
        ][:2000],
        "latency": latency,
        "unplanned_exits": [vars(e) for e in exits],
        "settle": settled,
        "checks": [vars(c) for c in checks],
        "passed": all(c.passed for c in checks),
    }


def _cell(kinds: dict[str, dict[str, int]], column: str) -> str:
    ok = refused = failed = 0
    for kind, counts in kinds.items():
        if GROUPS.get(kind) == column:
            ok += counts.get("ok", 0)
            refused += counts.get("refused", 0)
            failed += counts.get("failed", 0)
    if not ok and not refused and not failed:
        return "-"
    return f"{ok}/{refused}/{failed}"


def render(report: dict[str, Any]) -> str:
    timeline = Timeline(**report["timeline"])
    lines = [
        f"Staging run ({report['profile']['name']}): {report['requests']} requests through "
        f"{report['proxy']} in {report['profile']['load_seconds']:.0f} s of load; "
        f"replicas served {report['served_by_replica']}",
        "",
        "Faults (seconds from the start of the load)",
        f"  {'target':<11} {'SIGKILL':>8} {'restart':>8} {'ready':>8} {'down for':>9}",
    ]
    for fault in timeline.faults:
        ready = fault.get("ready_at")
        down = f"{ready - fault['killed_at']:.1f}" if ready is not None else "never up"
        restarted = fault.get("restarted_at")
        lines.append(
            f"  {fault['target']:<11} {fault['killed_at']:>8.1f} "
            f"{(f'{restarted:.1f}' if restarted is not None else '-'):>8} "
            f"{(f'{ready:.1f}' if ready is not None else '-'):>8} {down:>9}"
        )
    for exit_ in report["unplanned_exits"]:
        lines.append(
            f"  unplanned exit: {exit_['service']} at {exit_['at']:.1f} s "
            f"(code {exit_['returncode']}), restarted by the supervisor"
        )
        if exit_["reason"]:
            lines.append(f"    {exit_['reason']}")
    lines += ["", "Requests by phase (ok/refused/failed)"]
    lines.append(f"  {'phase':<20}" + "".join(f"{c:>14}" for c in COLUMNS))
    table = report["served"]
    failures: list[str] = []
    for phase in _phases(timeline):
        kinds = table.get(phase, {})
        if not kinds:
            continue
        lines.append(f"  {phase:<20}" + "".join(f"{_cell(kinds, c):>14}" for c in COLUMNS))
        codes: Counter = Counter()
        for kind, counts in kinds.items():
            for key, n in counts.items():
                if ":" in key:
                    codes[f"{kind} {key.split(':', 1)[1]}"] += n
        if codes:
            failures.append(
                f"  {phase:<20} " + ", ".join(f"{k} ×{n}" for k, n in codes.most_common(6))
            )
    if failures:
        lines += ["", "Refusals and failures by phase (kind code ×count)", *failures]
    totals: dict[str, Counter] = defaultdict(Counter)
    for kinds in table.values():
        for kind, counts in kinds.items():
            totals[kind].update(counts)
    lines += ["", "By kind, all phases", f"  {'kind':<10} {'ok':>6} {'refused':>8} {'failed':>7}"]
    for kind in sorted(totals, key=lambda k: (COLUMNS.index(GROUPS.get(k, "reads")), k)):
        c = totals[kind]
        lines.append(f"  {kind:<10} {c['ok']:>6} {c['refused']:>8} {c['failed']:>7}")
    lines += ["", "Latency of acknowledged requests (ms, p50/p99)"]
    lines.append(
        "  "
        + ", ".join(
            f"{k} {v['p50_ms']}/{v['p99_ms']}" for k, v in sorted(report["latency"].items())
        )
    )
    lines += ["", "Checks"]
    for check in report["checks"]:
        mark = "PASS" if check["passed"] else "FAIL"
        lines.append(f"  {mark}  {check['name']}: {check['detail']}")
    lines.append("")
    lines.append("Result: " + ("every check passed" if report["passed"] else "FAILED"))
    return "\n".join(lines)


def write(report: dict[str, Any], directory: Path, stem: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stem}.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), "utf-8")
    return path
