"""Engine creation and schema migrations for the hub store.

SQLite (the embedded default) runs in WAL mode and opens every transaction with BEGIN IMMEDIATE,
so concurrent writers queue instead of failing halfway; PostgreSQL is used as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from waybill.core.files import FILE_MODE, private_dir

MIGRATIONS = Path(__file__).parent / "migrations"


def private_file(path: Path) -> None:
    """Make the SQLite file owner-only before SQLite opens it (its WAL and shared-memory files take
    the database file's permissions)."""
    private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    os.chmod(path, FILE_MODE)


def make_engine(url: str) -> Engine:
    """An engine for the store at `url`, with SQLite tuned for one writer at a time."""
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
