"""What an operator relies on in docker-compose.yml and the Dockerfile, checked without a Docker engine.

The compose file is read through a real Compose implementation (`docker-compose config`), so a file it
rejects fails here; the Dockerfile is parsed. `make test` installs docker-compose (deploy/local/bootstrap.sh).
"""

import functools
import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from servicekit.cli import parser as cli_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

SERVICES = {"crm", "erp"}
DATABASES = {"crm": "crm-db", "erp": "erp-db"}
ONE_SHOT = {"topics", "crm-migrate", "erp-migrate"}
APP_PROCESSES = {"crm-web", "crm-worker", "erp-web", "erp-worker"}
LONG_RUNNING = {"crm-db", "erp-db", "kafka"} | APP_PROCESSES
PUBLISHED = {"crm-web": ("8010", 8000), "erp-web": ("8020", 8000)}

# What one-shot YAML-to-JSON conversion runs with the interpreter of a Python docker-compose (1.x),
# which always has PyYAML: Compose 1.x has no JSON output.
_YAML_TO_JSON = "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"


# --- running docker-compose -------------------------------------------------------------------------

def _compose_binary() -> str:
    found = shutil.which("docker-compose")
    if not found:
        pytest.fail("docker-compose is not on PATH, so docker-compose.yml cannot be validated. "
                    "Install it with deploy/local/bootstrap.sh (`make test` does) or `apt-get install docker-compose`.")
    return found


def _run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, **kwargs)


def _compose_major(binary: str) -> int:
    out = _run([binary, "version", "--short"], os.environ.copy())
    match = re.match(r"v?(\d+)\.", out.stdout.strip())
    assert out.returncode == 0 and match, f"cannot tell the docker-compose version: {out.stdout}{out.stderr}"
    return int(match.group(1))


def _hermetic_env(overrides: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The caller's environment without the variables the compose file interpolates, plus overrides."""
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", COMPOSE_FILE.read_text()))
    env = {k: v for k, v in os.environ.items() if k not in interpolated and not k.startswith("COMPOSE_")}
    env.update(overrides)
    return env


@functools.cache
def compose_config(overrides: tuple[tuple[str, str], ...] = ()) -> tuple[dict, str]:
    """The resolved compose configuration (as plain data) and what docker-compose wrote to stderr."""
    binary = _compose_binary()
    env = _hermetic_env(overrides)
    with tempfile.TemporaryDirectory() as tmp:
        empty_env_file = Path(tmp, "empty.env")
        empty_env_file.write_text("")  # an operator's .env next to the file must not change the result
        base = [binary, "-f", str(COMPOSE_FILE), "--env-file", str(empty_env_file), "config"]
        if _compose_major(binary) >= 2:
            out = _run(base + ["--format", "json"], env)
            assert out.returncode == 0, f"docker-compose config rejected docker-compose.yml:\n{out.stderr}"
            return json.loads(out.stdout), out.stderr
        out = _run(base, env)
        assert out.returncode == 0, f"docker-compose config rejected docker-compose.yml:\n{out.stderr}"
        shebang = Path(binary).read_text(errors="replace").splitlines()[0]
        assert shebang.startswith("#!") and "python" in shebang, f"unexpected docker-compose 1.x launcher: {shebang}"
        converted = _run(shlex.split(shebang[2:]) + ["-c", _YAML_TO_JSON], env, input=out.stdout)
        assert converted.returncode == 0, converted.stderr
        return json.loads(converted.stdout), out.stderr


def services(overrides: tuple[tuple[str, str], ...] = ()) -> dict[str, dict]:
    return compose_config(overrides)[0]["services"]


def ports(service: dict) -> list[tuple[str, str, int]]:
    """(host ip, published port, container port) of each published port, in either Compose's output form."""
    result = []
    for p in service.get("ports", []):
        if isinstance(p, dict):
            result.append((p.get("host_ip", ""), str(p.get("published", "")), int(p["target"])))
        else:
            spec = str(p).split("/")[0]
            host_ip, published, target = spec.rsplit(":", 2) if spec.count(":") >= 2 else ("", *spec.split(":"))
            result.append((host_ip, published, int(target)))
    return result


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def health_test(service: dict) -> str:
    test = (service.get("healthcheck") or {}).get("test") or []
    return " ".join(test) if isinstance(test, list) else str(test)


# --- docker-compose.yml -----------------------------------------------------------------------------

def test_compose_file_is_accepted_and_every_variable_has_a_default():
    _, stderr = compose_config()
    # Compose says so (1.x without a WARNING prefix when not on a terminal) when it substitutes a blank
    # string for an unset variable
    assert "not set" not in stderr and "WARN" not in stderr.upper(), stderr


def test_every_service_of_the_design_exists():
    assert LONG_RUNNING | ONE_SHOT <= set(services()), sorted(set(services()))


def test_each_service_has_its_own_postgresql_with_a_named_volume():
    svcs, volumes = services(), compose_config()[0].get("volumes") or {}
    for db in DATABASES.values():
        assert svcs[db]["image"].startswith("postgres:16"), svcs[db]["image"]
        mounts = [str(v).split(":") if isinstance(v, str) else [v["source"], v["target"]]
                  for v in svcs[db].get("volumes", [])]
        assert any(m[0] in volumes and m[1] == "/var/lib/postgresql/data" for m in mounts), mounts
    assert any(str(v).split(":")[0] in volumes if isinstance(v, str) else v["source"] in volumes
               for v in svcs["kafka"].get("volumes", [])), "Kafka's log must live on a named volume"


def test_every_long_running_service_has_a_healthcheck_and_restarts():
    for name in LONG_RUNNING:
        svc = services()[name]
        hc = svc.get("healthcheck") or {}
        assert hc.get("test") and not hc.get("disable") and hc["test"] != ["NONE"], f"{name}: no healthcheck"
        assert svc.get("restart") in {"always", "unless-stopped", "on-failure"}, f"{name}: restart={svc.get('restart')}"


def test_one_shot_jobs_run_once():
    for name in ONE_SHOT:
        assert services()[name].get("restart", "no") == "no", name


def test_healthchecks_work_inside_the_images():
    for name in APP_PROCESSES:
        test = health_test(services()[name])
        # python:3.11-slim has neither curl nor wget
        assert "curl" not in test and "wget" not in test, f"{name}: {test}"
        assert test.startswith("CMD python -c") and "/readyz" in test, f"{name}: {test}"


def test_web_listens_on_all_interfaces_in_the_container_and_probes_its_port():
    for name in ("crm-web", "erp-web"):
        svc = services()[name]
        bind = env_of(svc)[f"{name.split('-')[0].upper()}_BIND"]
        host, port = bind.rsplit(":", 1)
        assert host == "0.0.0.0", f"{name}: gunicorn must bind all interfaces inside the container, got {bind}"
        assert f"127.0.0.1:{port}/readyz" in health_test(svc)
        assert any(target == int(port) for _, _, target in ports(svc)), ports(svc)


def test_worker_health_endpoint_is_reachable_and_probed():
    for name in ("crm-worker", "erp-worker"):
        svc, prefix = services()[name], name.split("-")[0].upper()
        env = env_of(svc)
        assert env[f"{prefix}_WORKER_HEALTH_HOST"] == "0.0.0.0", name
        port = env[f"{prefix}_WORKER_HEALTH_PORT"]
        assert f"127.0.0.1:{port}/readyz" in health_test(svc), health_test(svc)


def test_processes_wait_for_migrations_topics_and_a_healthy_kafka():
    svcs = services()
    for name in APP_PROCESSES:
        service = name.split("-")[0]
        deps = {k: v.get("condition") for k, v in svcs[name].get("depends_on", {}).items()}
        assert deps.get(f"{service}-migrate") == "service_completed_successfully", f"{name}: {deps}"
        assert deps.get("kafka") == "service_healthy", f"{name}: {deps}"
        assert deps.get("topics") == "service_completed_successfully", f"{name}: {deps}"
    for service, db in DATABASES.items():
        deps = svcs[f"{service}-migrate"].get("depends_on", {})
        assert deps.get(db, {}).get("condition") == "service_healthy", f"{service}-migrate: {deps}"
    assert svcs["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_commands_are_commands_of_the_service_cli():
    svcs = services()
    expected = {"topics": "ensure-topics", "crm-migrate": "migrate", "erp-migrate": "migrate",
                "crm-web": "web", "erp-web": "web", "crm-worker": "worker", "erp-worker": "worker"}
    for name, command in expected.items():
        argv = svcs[name]["command"]
        argv = shlex.split(argv) if isinstance(argv, str) else argv
        assert argv[:1] == [command], f"{name}: {argv}"
        service = svcs[name]["build"]["args"]["SERVICE"]
        assert cli_parser(service, "127.0.0.1:1")[0].parse_args(argv).cmd == command


def test_each_service_is_built_from_the_one_dockerfile_with_its_own_service_arg():
    svcs = services()
    for name in ONE_SHOT | APP_PROCESSES:
        build = svcs[name]["build"]
        expected = "crm" if name in {"topics", "crm-migrate", "crm-web", "crm-worker"} else "erp"
        assert build["args"]["SERVICE"] == expected, f"{name}: {build}"
        assert Path(build["context"]).resolve() == ROOT, build
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", build


def test_crm_and_erp_use_different_databases_with_matching_credentials():
    svcs = services()
    urls = {}
    for service, db in DATABASES.items():
        var = f"{service.upper()}_DATABASE_URL"
        other = f"{(SERVICES - {service}).pop().upper()}_DATABASE_URL"
        users = [n for n in svcs if n.startswith(f"{service}-") and n != db] + (["topics"] if service == "crm" else [])
        seen = {env_of(svcs[n])[var] for n in users if var in env_of(svcs[n])}
        assert len(seen) == 1, f"{service}: every process must use the same database URL, got {seen}"
        for n in users:
            assert other not in env_of(svcs[n]), f"{n} must not know the other service's database"
        url = urlsplit(seen.pop())
        pg = env_of(svcs[db])
        assert url.hostname == db and (url.port or 5432) == 5432, url
        assert url.path.lstrip("/") == pg["POSTGRES_DB"], (url.path, pg)
        assert url.username == pg["POSTGRES_USER"] and (url.password or "") == pg["POSTGRES_PASSWORD"], url
        urls[service] = (url.hostname, url.path)
    assert urls["crm"] != urls["erp"], urls


def test_published_ports_bind_loopback_only():
    for name, svc in services().items():
        for host_ip, published, target in ports(svc):
            assert host_ip == "127.0.0.1", f"{name} publishes {published}->{target} on {host_ip or 'every interface'}"
    for name, (published, target) in PUBLISHED.items():
        assert ("127.0.0.1", published, target) in ports(services()[name]), ports(services()[name])
    for name in ("crm-db", "erp-db", "kafka", *ONE_SHOT):
        assert not ports(services()[name]), f"{name} must not be published"


def test_ports_and_passwords_are_settable_from_the_environment():
    svcs = services((("CRM_PORT", "18010"), ("ERP_PORT", "18020"), ("ERP_DB_PASSWORD", "s3cret")))
    assert ("127.0.0.1", "18010", 8000) in ports(svcs["crm-web"])
    assert ("127.0.0.1", "18020", 8000) in ports(svcs["erp-web"])
    assert env_of(svcs["erp-db"])["POSTGRES_PASSWORD"] == "s3cret"
    assert urlsplit(env_of(svcs["erp-web"])["ERP_DATABASE_URL"]).password == "s3cret"


def test_kafka_is_a_single_kraft_node_without_auto_created_topics():
    svcs = services()
    kafka = svcs["kafka"]
    env = env_of(kafka)
    assert kafka["image"] == "apache/kafka:3.9.1"
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node = env["KAFKA_NODE_ID"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{node}@")
    assert "CONTROLLER" in env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    for key in ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "KAFKA_DEFAULT_REPLICATION_FACTOR", "KAFKA_MIN_INSYNC_REPLICAS"):
        assert env[key] == "1", f"{key}={env.get(key)} on a single broker"
    advertised = {urlsplit(a).netloc for a in env["KAFKA_ADVERTISED_LISTENERS"].split(",")}
    for name in APP_PROCESSES | {"topics"}:
        bootstrap = env_of(svcs[name])["KAFKA_BOOTSTRAP_SERVERS"]
        assert set(bootstrap.split(",")) <= advertised, f"{name}: {bootstrap} not in {advertised}"


def test_erp_knows_where_the_crm_is():
    for name in ("erp-web", "erp-worker"):
        assert env_of(services()[name])["CRM_PUBLIC_URL"] == "http://127.0.0.1:8010"


# --- Dockerfile -------------------------------------------------------------------------------------

def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """Instructions (KEYWORD, arguments) per stage; comments dropped, continuation lines joined."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                           if not line.lstrip().startswith("#")))
    stages: list[list[tuple[str, str]]] = [[]]
    for line in text.splitlines():
        if not line.strip():
            continue
        keyword, _, args = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), args.strip()))
    return stages


def test_dockerfile_builds_either_service():
    global_args, *stages = dockerfile_stages()
    assert stages, "no FROM"
    image_arg = dict(a.split("=", 1) for k, a in global_args if k == "ARG" and "=" in a).get("PYTHON_IMAGE")
    for stage in stages:
        base = stage[0][1].split()[0].replace("${PYTHON_IMAGE}", image_arg or "")
        assert base == "python:3.11-slim", base
        assert ("ARG", "SERVICE") in stage, "every stage must declare ARG SERVICE"
    installs = " ".join(a for stage in stages for k, a in stage if k == "RUN" and "pip install" in a)
    for path in ("shared/events", "shared/servicekit", "services/${SERVICE}"):
        assert path in installs, f"{path} is not installed: {installs}"
    assert " -e " not in installs, "the image needs a regular (non-editable) install"


def test_image_runs_the_service_console_script_as_non_root():
    final = dockerfile_stages()[-1]
    env = " ".join(a for k, a in final if k == "ENV")
    assert re.search(r"\bSERVICE=\$\{?SERVICE\}?", env), "the final stage must keep SERVICE in the environment"
    entrypoint = json.loads(next(a for k, a in reversed(final) if k == "ENTRYPOINT"))
    assert any(re.search(r"\$\{?SERVICE\b", part) for part in entrypoint), entrypoint
    assert json.loads(next(a for k, a in reversed(final) if k == "CMD")) == ["web"]
    users = [a for k, a in final if k == "USER"]
    assert users, "the final stage must switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, users[-1]
    assert "CRM_BIND=0.0.0.0:8000" in env and "ERP_BIND=0.0.0.0:8000" in env, env


def test_build_context_leaves_out_local_state():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".local", ".git"} <= ignored, ignored
    assert any("__pycache__" in line for line in ignored), ignored
