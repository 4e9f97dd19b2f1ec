"""Shared fixtures: a fresh hub store on SQLite and, for tests marked postgres, on PostgreSQL.

PostgreSQL runs on 127.0.0.1:5432 with trust auth on every machine here; each test session gets a
database of its own, dropped at the end.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.fixtures.parts import PG_ADMIN_URL, require_postgres
from waybill.store import tables
from waybill.store.store import Store

# Fixtures of the simulated sources (ERP, WMS, TMS), targets (carrier, CRM) and partners (SFTP).
pytest_plugins = ["tests.fixtures.sshd", "tests.fixtures.sources", "tests.fixtures.targets", "tests.fixtures.partners",
                  "tests.fixtures.odoo"]




@pytest.fixture(autouse=True)
def waybill_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own WAYBILL_HOME and personal-data key."""
    home = tmp_path / "waybill"
    monkeypatch.setenv("WAYBILL_HOME", str(home))
    monkeypatch.setenv("WAYBILL_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    monkeypatch.delenv("WAYBILL_DB_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    require_postgres()
    name = f"waybill_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    from waybill.store.db import upgrade

    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, waybill_env: Path) -> Iterator[Store]:
    """A migrated, empty store on each database."""
    if request.param == "sqlite":
        s = Store.open(f"sqlite:///{waybill_env / 'hub.db'}")
        s.upgrade()
    else:
        url = request.getfixturevalue("pg_url")
        s = Store.open(url)
        with s.engine.begin() as conn:
            tables.clear(conn)
    yield s
    s.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, waybill_env):
    """The URL of an empty database of each kind, dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{waybill_env / 'migrate.db'}"
        return
    name = f"waybill_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
