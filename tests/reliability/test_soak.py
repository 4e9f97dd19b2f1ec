"""The soak (tests/reliability/soak.py) for many seeds: nothing lost, duplicated or blocked, and no
dead letter but the planted ones, whatever the order, the faults, the kills and the overlaps.
WAYBILL_SOAK_SEEDS sets the number of seeds (bench/reliability.py runs 500)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.reliability.soak import Totals, run_seed
from waybill.store.store import Store

pytestmark = [pytest.mark.reliability, pytest.mark.e2e]

SEEDS = int(os.environ.get("WAYBILL_SOAK_SEEDS", "50"))


@pytest.fixture
def template(tmp_path: Path) -> Path:
    """A migrated, empty SQLite store, copied for each seed (migrating takes longer than a seed)."""
    path = tmp_path / "template.db"
    store = Store.open(f"sqlite:///{path}")
    store.upgrade()
    store.engine.dispose()
    return path


def test_any_order_faults_kills_and_overlaps_leave_the_hub_equal_to_the_truth(tmp_path: Path, template: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    totals = Totals()
    for seed in range(SEEDS):
        totals.add(run_seed(seed, tmp_path / f"seed{seed}", template, monkeypatch))
    assert totals.problems == []
    assert (totals.lost, totals.duplicated, totals.blocked, totals.dead_other) == (0, 0, 0, 0)
    assert totals.seeds == SEEDS and totals.kills > 0 and totals.overlaps > 0 and totals.faults > 0
    assert totals.dead_planted >= SEEDS  # each seed plants at least one bad scan
