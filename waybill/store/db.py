"""Engine creation and schema migrations for the hub store.

SQLite (the embedded default) runs in WAL mode and opens every transaction with BEGIN IMMEDIATE,
so concurrent writers queue instead of failing halfway; PostgreSQL is used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from waybill.core.errors import ConfigError
from waybill.core.files import FILE_MODE, private_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def private_file(path: Path) -> None:
    """Make the SQLite file owner-only before SQLite opens it (its WAL and shared-memory files take
    the database file's permissions)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)


def make_engine(url: str) -> Engine:
    """An engine for the store at `url`, with SQLite tuned for one writer at a time.

    A URL that is not one raises ConfigError (without the URL: it may hold a password)."""
    _parse(url).get_dialect()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            private_file(Path(path))
        engine = create_engine(url, connect_args={"timeout": 60, "isolation_level": None})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    # deleted rows (purged raw bytes, erased personal data) are overwritten, not left in free pages
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with the project's alembic migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _parse(url: str) -> URL:
    """The URL, whose dialect's driver is installed; else ConfigError (without the URL: it may hold
    a password)."""
    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as err:
        raise ConfigError("the store's URL (WAYBILL_DB_URL) is not a database URL SQLAlchemy can use "
                          f"({type(err).__name__}); e.g. postgresql+psycopg2://user@host/db") from None
    return parsed


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store's URL (None for another database or an in-memory one)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def revision(engine: Engine) -> str | None:
    """The schema revision the store is at (None: never migrated); read from alembic's table
    directly (its MigrationContext logs at INFO on every look, into commands' output)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        current: str | None = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return current


def head() -> str:
    """The schema revision this code needs."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    current: str | None = ScriptDirectory.from_config(cfg).get_current_head()
    assert current is not None  # the project ships its migrations
    return current
