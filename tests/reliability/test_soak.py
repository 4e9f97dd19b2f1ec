"""The soak (tests/reliability/soak.py) for many seeds: nothing lost, duplicated or blocked, and no
dead letter but the planted ones, whatever the order, the faults, the kills and the overlaps.
WAYBILL_SOAK_SEEDS sets the number of seeds on SQLite (a fifth of them run on PostgreSQL too, where
overlapping runs meet FOR UPDATE SKIP LOCKED); every WAYBILL_SOAK_PARTNERS_EVERY-th seed (10) adds the
partners' SFTP servers and the carriers' APIs with carrier_tracking and edi_inbound for both
partners (such a seed costs about four times as much); bench/reliability.py runs 500 seeds, each with every flow."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.soak import Totals, postgres_store, run_seed, sqlite_store
from waybill.store.store import Store

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

SEEDS = int(os.environ.get("WAYBILL_SOAK_SEEDS", "50"))
PARTNERS_EVERY = int(os.environ.get("WAYBILL_SOAK_PARTNERS_EVERY", "10"))


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A migrated, empty SQLite store, copied for each seed (migrating takes longer than a seed)."""
    path = tmp_path / "template.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    store.engine.dispose()
    return path


@pytest.mark.parametrize("database, seeds", [("sqlite", SEEDS),
                                              pytest.param("postgres", max(SEEDS // 5, 2), marks=pytest.mark.postgres)])
def test_any_order_faults_kills_and_overlaps_leave_the_hub_equal_to_the_truth(
        database: str, seeds: int, tmp_path: Path, template: Path, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    open_store = sqlite_store(template) if database == "sqlite" else postgres_store(request.getfixturevalue("pg_url"))
    totals = Totals()
    for seed in range(seeds):
        totals.add(run_seed(seed, tmp_path / f"seed{seed}", open_store, monkeypatch,
                            partners=seed % PARTNERS_EVERY == 0))
    assert totals.problems == []
    assert (totals.lost, totals.duplicated, totals.blocked, totals.dead_other) == (0, 0, 0, 0)
    assert totals.seeds == seeds and totals.kills > 0 and totals.overlaps > 0 and totals.faults > 0
    assert totals.dead_planted >= seeds  # each seed plants at least one bad scan


def test_runs_killed_with_sigkill_at_random_moments_leave_the_hub_equal_to_the_truth(
        tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    totals = Totals()
    for seed in range(2):
        # the core flows (a process per run; bench/reliability.py kills the partner and carrier flows too)
        totals.add(run_seed(seed, tmp_path / f"seed{seed}", sqlite_store(template), monkeypatch, processes=True,
                            partners=False))
    assert totals.problems == []
    assert (totals.lost, totals.duplicated, totals.blocked, totals.dead_other) == (0, 0, 0, 0)
    assert totals.kills > 0
