"""deploy/ agrees with the code: compose file, environment example, image, load balancer.

No Docker engine runs where the tests run, so the image is never built nor the stack
started here: these tests read deploy/compose.yaml (PyYAML), deploy/env.example,
deploy/Dockerfile and deploy/Caddyfile and check them against what the code reads —
``services.settings.Settings`` (so that a setting added later is checked without touching
this file), the ``tec`` command (typer) and the HTTP routes of the gateway.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from services.settings import Settings
from tec.cli import app as tec_app

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FIELDS = Settings.fields()
PREFIX = "TEC_"
SECRET_ENDINGS = ("SECRET", "PASSWORD", "_KEY", "_TOKEN")
# `${VAR:?message}` in compose: the operator must set VAR, compose refuses to start without.
OPERATOR_SUPPLIED = "operator-supplied-value-0123456789abcdef0123456789"
INTERPOLATION = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def _is_secret(name: str) -> bool:
    """TEC_SIGNING_SECRET, POSTGRES_PASSWORD, TEC_MEILI_API_KEY… (not TEC_RATE_LIMIT_API_KEY,
    a number)."""
    if not name.endswith(SECRET_ENDINGS):
        return False
    field = FIELDS.get(name.removeprefix(PREFIX).lower()) if name.startswith(PREFIX) else None
    return field is None or field.annotation in (str, list[str])


# --- Reading the files --------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def _env_example() -> tuple[dict[str, str], set[str]]:
    """(variables set, variables only mentioned in a comment such as ``# TEC_X=default``)."""
    assigned: dict[str, str] = {}
    mentioned: set[str] = set()
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if match := re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", stripped):
            assigned[match.group(1)] = match.group(2)
        elif match := re.match(r"^#\s*([A-Z][A-Z0-9_]*)=", stripped):
            mentioned.add(match.group(1))
    return assigned, mentioned


def _interpolate(value: Any, env: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name, "")
        if op in (":?", "?"):
            return current or OPERATOR_SUPPLIED
        if op in (":-", "-"):
            return current or arg
        return current

    return INTERPOLATION.sub(replace, str(value))


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of every instruction, continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    logical: list[str] = []
    buffer = ""
    for line in text.splitlines():
        if not buffer and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        logical.append(buffer + line)
        buffer = ""
    out = []
    for line in logical:
        instruction, _, rest = line.strip().partition(" ")
        out.append((instruction.upper(), rest.strip()))
    return out


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, rest in _final_stage():
        if name == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def _command(service: dict[str, Any]) -> list[str]:
    command = service.get("command")
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _tec_services(compose: dict[str, Any]) -> dict[str, list[str]]:
    """{service: its ``tec`` arguments} for the services running the project's image."""
    return {
        name: _command(service)[1:]
        for name, service in compose["services"].items()
        if _command(service)[:1] == ["tec"]
    }


def _service_env(compose: dict[str, Any], name: str) -> dict[str, str]:
    """What a process of ``name`` sees: image ENV, then .env (env.example), then compose."""
    assigned, _ = _env_example()
    service = compose["services"][name]
    env = dict(_dockerfile_env())
    env_files = service.get("env_file") or []
    if isinstance(env_files, (str, dict)):
        env_files = [env_files]
    for item in env_files:
        path = item["path"] if isinstance(item, dict) else item
        assert path == ".env", f"{name}: env_file {path} (deploy/.env comes from env.example)"
        env.update(assigned)
    for key, value in _environment(service).items():
        env[key] = _interpolate(value, assigned)
    return env


def _settings_for(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    import os

    for key in list(os.environ):
        if key.startswith(PREFIX):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith(PREFIX):
            monkeypatch.setenv(key, value)
    return Settings()


# --- Settings -------------------------------------------------------------------------------


def test_every_tec_variable_in_deploy_is_a_real_setting():
    compose = _compose()
    assigned, mentioned = _env_example()
    named: dict[str, str] = {}
    for name in set(assigned) | mentioned:
        named[name] = "deploy/env.example"
    for service_name, service in compose["services"].items():
        for key in _environment(service):
            named[key] = f"compose.yaml service {service_name}"
    for name, _ in _dockerfile_env().items():
        named[name] = "Dockerfile ENV"
    unknown = {
        name: where
        for name, where in named.items()
        if name.startswith(PREFIX) and name.removeprefix(PREFIX).lower() not in FIELDS
    }
    assert not unknown, f"not settings of services.settings.Settings (typos?): {unknown}"


def test_env_example_mentions_every_setting():
    """A setting added to the code must be considered for production: set it in
    deploy/env.example, or mention it commented out with its default."""
    assigned, mentioned = _env_example()
    missing = [
        f"{PREFIX}{name.upper()}"
        for name in FIELDS
        if f"{PREFIX}{name.upper()}" not in assigned and f"{PREFIX}{name.upper()}" not in mentioned
    ]
    assert not missing, f"add to deploy/env.example (set, or `# NAME=default`): {missing}"


def test_env_example_holds_no_secret():
    assigned, _ = _env_example()
    filled = [name for name, value in assigned.items() if _is_secret(name) and value.strip()]
    assert not filled, f"secrets must be empty in env.example: {filled}"


def test_every_interpolated_variable_is_documented_or_defaulted():
    assigned, mentioned = _env_example()
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    known = set(assigned) | mentioned
    undocumented = {
        m["name"]
        for m in INTERPOLATION.finditer(text)
        if m["op"] not in (":-", "-") and m["name"] not in known
    }
    assert not undocumented, f"compose.yaml reads these from deploy/.env: {undocumented}"


def _production_rules(settings: Settings) -> list[str]:
    """What production needs, checked field by field; a rule applies when its field exists."""
    problems: list[str] = []

    def has(name: str) -> bool:
        return name in FIELDS

    if not settings.database.database_url.startswith("postgres://"):
        problems.append("TEC_DATABASE_URL must be PostgreSQL (several processes share it)")
    if has("environment") and settings.security.environment != "production":
        problems.append("TEC_ENVIRONMENT must be production")
    if has("debug") and settings.http.debug:
        problems.append("TEC_DEBUG must be false")
    if has("search_engine"):
        if settings.search.search_engine != "meilisearch":
            problems.append("TEC_SEARCH_ENGINE must be meilisearch (the index is shared)")
        for name in ("meili_url", "meili_api_key"):
            if has(name) and not settings.value(name):
                problems.append(f"{PREFIX}{name.upper()} must be set")
    if has("smtp_host") and not settings.mail.smtp_host:
        problems.append("TEC_SMTP_HOST must be set (else mail goes to files in the container)")
    if has("redis_url") and not settings.limits.redis_url:
        problems.append("TEC_REDIS_URL must be set (rate limits shared by the replicas)")
    if has("public_url") and not settings.http.public_url.startswith(("https://", "http://")):
        problems.append("TEC_PUBLIC_URL must be the public absolute URL (links in mail)")
    # Whatever the code documents as required in production.
    for name, field in FIELDS.items():
        if "required in production" in (field.description or "") and not settings.value(name):
            problems.append(f"{PREFIX}{name.upper()} is required in production")
    return problems


def test_every_process_gets_the_settings_production_requires(monkeypatch):
    compose = _compose()
    services = _tec_services(compose)
    assert services, "no service runs `tec`"
    for name in services:
        env = _service_env(compose, name)
        try:
            settings = _settings_for(env, monkeypatch)  # the code's own validators
        except ValueError as error:
            pytest.fail(f"service {name}: the settings are refused:\n{error}")
        problems = _production_rules(settings)
        assert not problems, f"service {name}: " + "; ".join(problems)


def test_secrets_are_required_not_defaulted():
    """Secrets come from deploy/.env, and compose stops when one is missing (`${X:?…}`)."""
    compose = _compose()
    for name in _tec_services(compose):
        for key, value in _environment(compose["services"][name]).items():
            if _is_secret(key):
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", str(value)), (
                    f"{name}: {key} must be `${{VAR:?message}}`, not {value!r}"
                )


def test_production_mail_needs_a_relay_of_the_operator(monkeypatch):
    """No SMTP default in production: compose stops while TEC_SMTP_HOST is empty, and the
    code's own settings refuse production without it (else mail would pile up as files
    inside a container)."""
    compose = _compose()
    assigned, _ = _env_example()
    assert not assigned.get("TEC_SMTP_HOST"), "env.example must leave the relay to the operator"
    for name in _tec_services(compose):
        value = str(_environment(compose["services"][name]).get("TEC_SMTP_HOST", ""))
        assert re.fullmatch(r"\$\{TEC_SMTP_HOST:\?[^}]+\}", value), (
            f"{name}: TEC_SMTP_HOST must be `${{TEC_SMTP_HOST:?message}}`, not {value!r}"
        )
        env = {**_service_env(compose, name), "TEC_SMTP_HOST": ""}
        with pytest.raises(ValueError, match="TEC_SMTP_HOST"):
            _settings_for(env, monkeypatch)


def test_the_smtp_catcher_is_opt_in():
    """Mailpit, for trials, starts only when asked (`--profile mailpit`) and nothing waits
    for it."""
    services = _compose()["services"]
    catchers = [name for name, s in services.items() if "mailpit" in str(s.get("image", ""))]
    for name in catchers:
        assert services[name].get("profiles"), f"{name} must sit behind a compose profile"
        for other, service in services.items():
            assert name not in (service.get("depends_on") or {}), f"{other} waits for {name}"


# --- Commands -------------------------------------------------------------------------------


def _resolve_tec(args: list[str]) -> str:
    """Check that ``tec ARGS`` is a command line the CLI accepts (command and options),
    without running it; a message saying why not, or "" when it is fine. Typer ships its
    own click, hence the duck typing."""
    command: Any = typer.main.get_command(tec_app)
    rest = list(args)
    path = ["tec"]
    while hasattr(command, "commands") and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        if sub is None:
            return f"`{' '.join(path)} {rest[0]}` is not a tec command"
        path.append(rest.pop(0))
        command = sub
    if hasattr(command, "commands"):
        return f"`{' '.join(path)}` needs a subcommand"
    try:
        command.make_context(" ".join(path), rest)  # parses options, runs nothing
    except Exception as error:  # typer's click UsageError
        return f"`{' '.join(path)}`: {getattr(error, 'format_message', error.__str__)()}"
    return ""


def test_the_command_check_catches_mistakes():
    assert _resolve_tec(["rounds", "close-due", "--every", "60"]) == ""
    assert "not a tec command" in _resolve_tec(["mailr"])
    assert "needs a subcommand" in _resolve_tec(["rounds"])
    assert "--evry" in _resolve_tec(["rounds", "close-due", "--evry", "60"])


def test_every_service_runs_a_real_tec_command():
    compose = _compose()
    problems = [
        f"service {name}: {p}"
        for name, a in _tec_services(compose).items()
        if (p := _resolve_tec(a))
    ]
    assert not problems, problems


def test_the_process_layout_is_complete():
    compose = _compose()
    services = compose["services"]
    runs = {name: " ".join(args) for name, args in _tec_services(compose).items()}

    def running(prefix: str) -> list[str]:
        return [name for name, line in runs.items() if line.startswith(prefix)]

    for prefix in ("migrate", "serve", "worker", "mailer", "rounds close-due"):
        assert running(prefix), f"no service runs `tec {prefix}`"
    [migrate] = running("migrate")
    for name in runs:
        if name == migrate:
            continue
        condition = (services[name].get("depends_on") or {}).get(migrate, {}).get("condition")
        assert condition == "service_completed_successfully", (
            f"{name} must start after the migration job ({migrate}) succeeded"
        )
    assert services[migrate].get("restart") == "no", "the migration job runs once"
    for name in running("serve"):
        assert "--no-migrate" in runs[name], f"{name}: replicas must not race to migrate"
        assert services[name].get("deploy", {}).get("replicas", 1) >= 2, f"{name}: replicas"
        assert "ports" not in services[name], f"{name}: reached through the load balancer only"
    for name in runs:
        if name not in running("serve"):
            assert services[name].get("healthcheck", {}).get("disable") is True, (
                f"{name} serves no HTTP: turn off the image's /healthz check"
            )
    assert "--every" in runs[running("rounds close-due")[0]], "the scheduler keeps running"
    images = " ".join(str(s.get("image", "")) for s in services.values())
    for needed in ("postgres", "meilisearch", "redis"):
        assert needed in images, f"no {needed} service"


def test_the_load_balancer_reaches_the_replicas():
    compose = _compose()
    [serve] = [n for n, a in _tec_services(compose).items() if a[:1] == ["serve"]]
    port = _service_env(compose, serve).get("TEC_PORT", str(FIELDS["port"].default))
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    mounted = " ".join(str(v) for s in compose["services"].values() for v in s.get("volumes", []))
    assert "./Caddyfile:" in mounted, "the Caddyfile is not mounted"
    assert re.search(rf"name\s+{serve}\b", caddyfile), f"Caddy must balance over `{serve}`"
    assert re.search(rf"port\s+{port}\b", caddyfile), f"Caddy must use port {port}"
    assert "health_uri /readyz" in caddyfile
    for source in re.findall(r"\./([\w.-]+):", mounted):
        assert (DEPLOY / source).exists(), f"compose mounts deploy/{source}, which is missing"


# --- Image ----------------------------------------------------------------------------------


def _packages() -> list[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.rstrip("*").rstrip(".") for pattern in include})


def test_the_image_copies_every_package_and_installs_the_project():
    instructions = _dockerfile_instructions()
    copied = {
        Path(source).name
        for name, rest in instructions
        if name == "COPY" and not rest.startswith("--from")
        for source in [t for t in shlex.split(rest) if not t.startswith("--")][:-1]
    }
    for needed in ["pyproject.toml", "README.md", *_packages()]:
        assert needed in copied, f"the Dockerfile does not copy {needed}"
    assert any(
        name == "RUN" and re.search(r"pip install --no-deps \.(\s|$)", rest)
        for name, rest in instructions
    ), "the project goes on top of the locked dependencies (pip install --no-deps .)"
    assert set(_packages()) >= {"tec", "schema", "services", "search", "mailer"}


def test_the_image_installs_exactly_the_runtime_lock():
    """Dependencies come from requirements/runtime.txt (written by `make lock`), every file
    checked against its hash; no other pip install resolves dependencies."""
    instructions = _dockerfile_instructions()
    installs = [
        command
        for name, rest in instructions
        if name == "RUN"
        for command in re.split(r"&&|;", rest)
        if re.search(r"pip install\b", command) and "--upgrade pip" not in command
    ]
    locked = [c for c in installs if "-r requirements/runtime.txt" in c]
    assert locked, f"no pip install -r requirements/runtime.txt in the Dockerfile: {installs}"
    assert all("--require-hashes" in c.split() for c in locked), locked
    assert all("--no-deps" in c.split() for c in installs if c not in locked), installs
    copied = [rest for name, rest in instructions if name == "COPY"]
    assert any("requirements/runtime.txt" in rest for rest in copied), "the lock is not copied"
    assert not any("requirements/test.txt" in rest for rest in installs + copied)
    assert "--hash=sha256:" in (ROOT / "requirements" / "runtime.txt").read_text("utf-8")


def test_the_image_is_slim_runs_as_a_user_and_serves_by_default():
    final = _final_stage()
    base = final[0][1].split()[0]
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert base.startswith("python:") and base.endswith("-slim"), base
    assert base.removeprefix("python:").removesuffix("-slim") >= python.removeprefix(">=")
    users = [rest for name, rest in final if name == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0"), users[-1]
    [cmd] = [rest for name, rest in final if name == "CMD"]
    assert cmd.replace(" ", "") == '["tec","serve"]', cmd
    assert _resolve_tec(["serve"]) == ""
    env = _dockerfile_env()
    assert env.get("TEC_HOST") == "0.0.0.0", "tec serve must listen beyond the container"
    exposed = [rest for name, rest in final if name == "EXPOSE"]
    assert exposed == [env.get("TEC_PORT", str(FIELDS["port"].default))], exposed


def test_the_healthcheck_probes_a_real_route():
    from gateway.app import create_app

    [check] = [rest for name, rest in _final_stage() if name == "HEALTHCHECK"]
    path = re.search(r"(/[a-z]+)\b[\"']?, timeout", check) or re.search(r"(/healthz)", check)
    assert path, check
    app = create_app(Settings(database_url="sqlite://:memory:"))
    routes = {getattr(route, "path", None) for route in app.routes}
    assert path.group(1) in routes, f"{path.group(1)} is not a route of the gateway"
    assert "TEC_PORT" in check, "the health check must follow TEC_PORT"
    exec_form = json.loads(check[check.index("CMD") + 3 :])
    assert exec_form[:2] == ["python", "-c"], exec_form
    compile(exec_form[2], "HEALTHCHECK", "exec")  # the probe itself is valid Python
