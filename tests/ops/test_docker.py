"""docker/: the compose file and the Dockerfile agree with each other and with the repository
(no Docker engine runs here, so their consistency is what can be checked)."""

from __future__ import annotations

import importlib.util
import re
from importlib.metadata import version
from urllib.parse import urlsplit

import pytest
import yaml

from tests.ops.test_dag_integrity import EXPECTED
from waybill.connectors.connection import parse
from waybill.ops.airflow_home import REPO

DOCKER = REPO / "docker"
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
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text()


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


def test_volumes_are_declared(compose: dict) -> None:
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                assert source in compose["volumes"], f"{name}: volume {source} not declared"


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


def test_connections_line_up_with_the_dags_and_the_simulators(compose: dict) -> None:
    services = compose["services"]
    env = services["airflow-scheduler"]["environment"]
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
