"""``python -m deploy.staging [--quick] [--schedule FILE] [--proxy caddy|python]``: the
staging run (docs/deploy.md, « Staging run »). Exit code 0 when every check passed — or
when the run was skipped (no PostgreSQL or Redis binaries here), which it says on a line
starting with ``skipped:`` — and 1 when a check failed."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from deploy.staging.plan import FULL, QUICK, load_profile
from deploy.staging.processes import Binaries, find_binaries, install_caddy
from deploy.staging.run import ROOT, Options, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.staging", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("STAGING_QUICK", "") not in ("", "0"),
        help="the reduced run of the test suite (also STAGING_QUICK=1)",
    )
    parser.add_argument("--schedule", type=Path, help="JSON file of faults and actions")
    parser.add_argument(
        "--proxy",
        choices=["auto", "caddy", "python"],
        default="auto",
        help="load balancer: Caddy when installed (auto), or the fallback Python proxy",
    )
    parser.add_argument(
        "--install-caddy",
        action="store_true",
        help="apt-get install caddy first when it is missing and we are root",
    )
    parser.add_argument("--report-dir", type=Path, default=ROOT / "var" / "staging")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    profile = load_profile(QUICK if args.quick else FULL, args.schedule)
    if args.install_caddy and args.proxy != "python":
        print(f"caddy: {install_caddy()}", flush=True)
    binaries, missing = find_binaries()
    if binaries is None:
        print(f"skipped: the staging run needs {missing}", flush=True)
        return 0
    proxy = args.proxy
    if proxy == "auto":
        proxy = "caddy" if binaries.caddy else "python"
    if proxy == "caddy" and binaries.caddy is None:
        print("caddy is not installed (apt-get install -y caddy)", file=sys.stderr)
        return 2
    options = Options(profile=profile, proxy=proxy, report_dir=args.report_dir, keep=args.keep)
    try:
        return asyncio.run(_interruptible(options, binaries))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: every process of the run was stopped", file=sys.stderr)
        return 130


async def _interruptible(options: Options, binaries: Binaries) -> int:
    """The run, cancelled by SIGTERM as by Ctrl-C: it stops what it started, then exits."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await run(options, binaries)


if __name__ == "__main__":
    sys.exit(main())
