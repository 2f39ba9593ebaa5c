"""`tec reindex`, `tec worker` and the index `tec demo` leaves behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.port import SearchRequest
from search.tantivy_engine import TantivyEngine
from tests.live import copy_demo_database, copy_demo_index
from tests.search.meilisearch_double import FakeMeilisearch, Served

pytestmark = pytest.mark.heavy

TEC = Path(sys.executable).parent / "tec"


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "TEC_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "TEC_SEARCH_PATH": str(tmp_path / "index"),
        "TEC_SEARCH_POLL_INTERVAL": "0.1",
        "TEC_LOG_LEVEL": "warning",
    }


def _count(path: Path) -> int:
    async def run() -> int:
        engine = TantivyEngine(path)
        await engine.open()
        try:
            return (await engine.search(SearchRequest(limit=0))).total
        finally:
            await engine.close()

    return asyncio.run(run())


def _tec(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TEC), *args], capture_output=True, text=True, timeout=120, env=env, cwd=cwd
    )


def test_demo_indexes_and_reindex_rebuilds(tmp_path):
    env = _env(tmp_path)
    # The database and index `tec demo` made for this test process, and what it printed.
    printed = copy_demo_database(tmp_path / "cli.sqlite3")
    assert "Search index rebuilt:" in printed
    indexed = _count(copy_demo_index(tmp_path / "index"))
    assert f"Search index rebuilt: {indexed} documents." in printed
    assert indexed > 30
    again = _tec("reindex", "--engine", "embedded", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"Search index rebuilt: {indexed} documents." in again.stdout
    assert len(list((tmp_path / "index").glob("gen-*"))) <= 2
    bad = _tec("reindex", "--engine", "elastic", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "embedded or meilisearch" in bad.stderr


def test_reindex_without_meilisearch_says_why(tmp_path):
    result = _tec("reindex", "--engine", "meilisearch", env=_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 1
    assert "TEC_MEILI_URL" in result.stderr and "Traceback" not in result.stderr


def test_worker_fills_an_empty_index_and_stops_on_sigterm(tmp_path):
    env = _env(tmp_path)
    # Demo data without an index: what a fresh deployment restoring a database has.
    copy_demo_database(tmp_path / "cli.sqlite3")
    copy_demo_index(tmp_path / "other")
    worker = subprocess.Popen(
        [str(TEC), "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "index" / "CURRENT").exists() or _count(tmp_path / "index") == 0:
            assert worker.poll() is None, worker.stdout.read() if worker.stdout else ""
            assert time.monotonic() < deadline
            time.sleep(0.3)
        assert _count(tmp_path / "index") == _count(tmp_path / "other")
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "Traceback" not in output


async def _tec_async(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """``tec`` in a subprocess while this test's event loop keeps serving (the double)."""
    process = await asyncio.create_subprocess_exec(
        str(TEC),
        *args,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_migrate_pushes_meilisearch_settings_only_where_they_differ(tmp_path):
    fake = FakeMeilisearch()
    serving = Served(fake)
    await serving.start()
    env = {**_env(tmp_path), "TEC_SEARCH_ENGINE": "meilisearch", "TEC_MEILI_URL": serving.url}
    try:
        code, out, err = await _tec_async("migrate", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "Meilisearch index tec: settings up to date." in out  # created with them
        fake.indexes["tec"].settings["rankingRules"] = ["words", "sort"]
        fake.indexes["tec"].settings["synonyms"] = {"agora": ["forum"], "forum": ["agora"]}
        code, out, err = await _tec_async("migrate", env=env, cwd=tmp_path)
        assert code == 0, err
        assert "settings updated (ranking_rules, stop_words)" in out
        # The editors' synonyms stay; their words are no stop words.
        assert fake.indexes["tec"].settings["synonyms"] == {"agora": ["forum"], "forum": ["agora"]}
        patches = [b for m, p, b in fake.requests if m == "PATCH" and p.endswith("/settings")]
        assert len(patches) == 2 and set(patches[-1]) == {"rankingRules", "stopWords"}
    finally:
        await serving.stop()
    code, out, err = await _tec_async("migrate", env=env, cwd=tmp_path)
    assert code == 1 and "Database up to date." in out
    assert "settings not pushed" in err and "Traceback" not in err
