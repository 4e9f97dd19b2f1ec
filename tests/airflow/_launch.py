"""Start an `airflow` command with a compatibility fix for the locked celery 5.7.0.

apache-airflow-providers-celery 3.26.0 imports `retry` from celery.backends.database, which celery
5.7 removed (its DatabaseBackend now retries by itself: result_backend_always_retry, 3 tries), so
every Celery component fails at import. Until the dependency pin moves to celery<5.7, the missing
decorator is supplied as a pass-through; with a celery that has it, this changes nothing.

Usage: python -m tests.airflow._launch <airflow arguments...>
"""

from __future__ import annotations

import sys

import celery.backends.database as database

if not hasattr(database, "retry"):
    database.retry = lambda fun: fun  # type: ignore[attr-defined]

from airflow.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "airflow"
    sys.exit(main())
