# Two commands on a fresh machine (python3 and make are enough):
#   make demo   — virtual environment, install, SQLite database with the demo data, serve
#   make test   — virtual environment, install, the whole suite (SQLite, then PostgreSQL)
VENV ?= .venv
BIN := $(VENV)/bin
# The lock (README, "Dependencies"): uv.lock, and the requirement files pip installs from.
LOCK := requirements/runtime.txt requirements/test.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | cksum | cut -d' ' -f1)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
UV_VERSION ?= 0.13.9
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv

.PHONY: demo serve test test-sqlite test-postgres test-scale lint lock schema docs bench bench-search staging clean

# Exactly the locked versions (hashes checked), then the project itself on top of them.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Resolves pyproject.toml into uv.lock (every pin that still fits is kept), then writes the
# requirement files from it. LOCK_ARGS="--upgrade-package NAME" moves one dependency to its
# newest allowed version, LOCK_ARGS=--upgrade all of them.
lock:
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(UV) lock --python $(BIN)/python $(LOCK_ARGS)
	$(UV) export --quiet --frozen --no-dev --no-emit-project --format requirements-txt \
	  --output-file requirements/runtime.txt
	$(UV) export --quiet --frozen --no-dev --no-emit-project --format requirements-txt \
	  --extra test --output-file requirements/test.txt

demo: $(STAMP)
	$(BIN)/tec demo
	$(BIN)/tec serve --no-migrate

serve: $(STAMP)
	$(BIN)/tec serve

test: test-sqlite test-postgres test-scale

# Bytecode is kept even where PYTHONDONTWRITEBYTECODE is set: the suite starts many Python
# processes, and pytest rewrites its plugins' modules (hypothesis, schemathesis) at each
# start unless it may keep them.
test-sqlite: $(STAMP)
	env -u TEC_TEST_DATABASE_URL -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest

# Skips with a clear reason where no PostgreSQL answers.
test-postgres: $(STAMP)
	TEC_TEST_DATABASE_URL=$${TEC_TEST_DATABASE_URL:-$(PG_URL)} env -u PYTHONDONTWRITEBYTECODE \
	  $(BIN)/pytest -m "not browser and not scale"

# The query plans at 1,000,000 resources (tests/scale/, about a minute per database):
# SQLite, then PostgreSQL (skipped where none answers).
test-scale: $(STAMP)
	env -u TEC_TEST_DATABASE_URL -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest -m scale -n 0 tests/scale
	TEC_TEST_DATABASE_URL=$${TEC_TEST_DATABASE_URL:-$(PG_URL)} env -u PYTHONDONTWRITEBYTECODE \
	  $(BIN)/pytest -m scale -n 0 tests/scale

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Portal benchmark (docs/performance.md): gateway vs hand-written endpoint, 16 connections,
# with wrk (installed from Debian when we are root; bench/load.py otherwise).
# TEC_BENCH_DATABASE_URL=postgres://… adds PostgreSQL (that database is wiped), each backend
# in a process of its own, and PostGraphile 5 beside the gateway there (npm ci into
# var/bench/postgraphile/; skipped, with the reason, without Node and npm).
# BENCH_ARGS=--tiny: 60 resources, 1 s per step, to check that it all runs.
# BENCH_ARGS=--growth: instead, how cost grows with the catalogue — the portal (pages of 20
# and 100) and the resource page, hand-written and through the gateway, cache off and on,
# at 10,000, 100,000 and 1,000,000 resources (--sizes) written in bulk (bench/bulk.py), on
# TEC_BENCH_DATABASE_URL (WIPED) or SQLite; requests/s, p50, CPU per request, RSS.
# Then search: requests/s through GraphQL and through the port, in one run (SEARCH_DOCS).
bench: $(STAMP)
	command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk \
	  || echo "wrk could not be installed (apt-get install -y wrk): using bench/load.py"
	$(BIN)/python -m bench.run $(BENCH_ARGS)
	$(BIN)/python bench/search/run.py --docs $${SEARCH_DOCS:-10000} --rounds 100

# Search benchmark (docs/search.md): DOCS=10000 for a quicker run.
bench-search: $(STAMP)
	$(BIN)/python bench/search/run.py --docs $${DOCS:-100000}

# Staging run (docs/deploy.md): the production process layout on this machine — its own
# PostgreSQL and Redis, two replicas behind Caddy (installed from Debian when we are root;
# a small Python proxy otherwise), worker, mailer, SMTP sink — under a mixed load while each
# component is SIGKILLed; report in var/staging/. QUICK=1 for the 3-minute run of the tests.
staging: $(STAMP)
	$(BIN)/python -m deploy.staging --install-caddy $(if $(QUICK),--quick) $(STAGING_ARGS)

schema: $(STAMP)
	$(BIN)/tec export-schema --output schema.graphql

docs: $(STAMP)
	$(BIN)/python -c "from services.policy import render_authorization_doc as r; open('docs/authorization.md', 'w').write(r())"

clean:
	rm -rf $(VENV) var .pytest_cache
