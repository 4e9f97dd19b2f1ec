"""Reliability in figures: one line of what was tried and what came out of it.

- soak seeds: tests/reliability/soak.py per seed (the nine flows in shuffled orders against
  simulators with 10% transient faults and changing data, partners dropping orders on their SFTP
  servers, runs killed before or after a commit, overlapping runs, then the end state compared with
  the simulators, the CRM, the ERP, the finance feed and the partners' folders);
- crash trials: the runs killed in those seeds (an exception raised into the run before or after
  one of its commits), and real SIGKILLs: `--sigkill-seeds` more seeds (15: about 200 kills) run
  each flow run as a process of its own and kill more than half of them at a random moment;
- control numbers reused: control numbers drawn by several threads at once from one store;
- poison inputs: real records with one value replaced by a poison value, mapped and applied (the
  property test's helpers, tests/flows/test_poison_property.py), and how each ended.

Run: .venv/bin/python bench/reliability.py [--seeds 500] [--poison 2000] [--sigkill-seeds 15] [--jobs 2]
Seeds are shared among `--jobs` processes (each seed has its own simulators and store); a line per
seed done goes to stderr. Ctrl-C (SIGINT), also when started as a background job, drops the seeds under
way and prints the line for the seeds done.
Exit 1 when anything was lost, duplicated, blocked, reused or dead-lettered unexpectedly.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import multiprocessing
import os
import random
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pytest

from tests.flows import test_poison_property as poison
from tests.reliability.soak import Totals, run_seed, sqlite_store
from waybill.canonical import model
from waybill.flows import sync
from waybill.store import message_log
from waybill.store.edi_state import StoreControlNumbers
from waybill.store.store import Store


def fresh_store(folder: Path, name: str) -> Store:
    store = Store.open(f"sqlite:///{folder / name}")
    store.upgrade()
    return store


def control_numbers(folder: Path, threads: int = 4, each: int = 150) -> tuple[int, int]:
    """(numbers drawn, numbers drawn twice) by `threads` threads at once."""
    store = fresh_store(folder, "control.db")
    drawn: list[int] = []
    lock = threading.Lock()

    def draw() -> None:
        numbers = StoreControlNumbers(store)
        got = [numbers.next("acme", "ISA") for _ in range(each)]
        with lock:
            drawn.extend(got)

    workers = [threading.Thread(target=draw) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    store.engine.dispose()
    return len(drawn), len(drawn) - len(set(drawn))


def poison_trials(folder: Path, n: int, rng: random.Random) -> Counter[str]:
    """How `n` pages, each with one poison value in one record, ended: per record stored, dead,
    parked, skipped (the mapping takes it for no entity, as a draft invoice), lost (none of these)
    or raised (apply or the mapper failed the page)."""
    store = fresh_store(folder, "poison.db")
    poison.load_clean(store)
    ended: Counter[str] = Counter()
    streams = sorted(poison.STREAMS)
    for i in range(n):
        stream = rng.choice(streams)
        system, map_page, records, key_of = poison.STREAMS[stream]
        start = rng.randrange(len(records) - 2)
        page_records = json.loads(json.dumps(records[start:start + 3]))
        k = rng.randrange(len(page_records))
        value = rng.choice([*poison.POISON_VALUES, rng.randint(-10**6, 10**6), rng.random() * 1e20])
        page_records[k] = poison.put(page_records[k], rng.choice(poison.paths(page_records[k])), value)
        lines = poison.lines_of(page_records)
        cursor = f"bench-{i}"
        try:
            message = sync.to_message(poison.page_of(stream, page_records, lines, cursor),
                                      lambda p, m=map_page, sy=system, st=stream: m(sy, st, p))
            result = store.apply(model.Batch(system, stream, [message], cursor=cursor))
        except Exception:
            ended["raised"] += 1
            continue
        with store.engine.connect() as conn:
            dead, parked = ({d.key for d in message_log.find(conn, state=state, limit=100_000)
                             if d.parent_id in result.messages} for state in ("dead", "parked"))
            rec = page_records[k]
            entities, rejects = map_page(system, stream, poison.page_of(stream, [rec], lines, cursor))
            key = poison.dead_key(sync._safe_key(key_of, rec))
            if any(poison.dead_key(r.key) == key for r in rejects):
                ended["dead" if key in dead else "lost"] += 1
                continue
            if not entities:  # the mapping takes the record for none (a draft invoice, a state it skips)
                ended["skipped"] += 1
            for e in entities:
                ek = poison.dead_key(poison.entity_key(e))
                ended["dead" if ek in dead else "parked" if ek in parked
                      else "stored" if poison.held(conn, e) else "lost"] += 1
    store.engine.dispose()
    return ended


def run_seeds(seeds: list[int], folder: Path, template: Path, *, processes: bool, partners_every: int) -> Totals:
    """The soak for `seeds`, one after another, each on a fresh copy of `template`; on Ctrl-C the seed
    under way is dropped and what the seeds done found is returned."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job starts with SIGINT ignored
    totals = Totals()
    monkeypatch = pytest.MonkeyPatch()
    try:
        for seed in seeds:
            started = time.monotonic()
            found = run_seed(seed, folder / f"seed{seed}", sqlite_store(template), monkeypatch, processes=processes,
                             partners=seed % partners_every == 0)
            totals.add(found)
            print(f"seed {seed}: {time.monotonic() - started:.0f} s, compared {found.compared}, lost {found.lost}, "
                  f"duplicated {found.duplicated}, blocked {found.blocked}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        monkeypatch.undo()
    return totals


def soak(seeds: list[int], folder: Path, template: Path, *, processes: bool, partners_every: int,
         jobs: int) -> tuple[Totals, bool]:
    """The totals of `seeds` run by `jobs` processes (seeds dealt round-robin), and whether Ctrl-C
    stopped them."""
    if jobs <= 1 or len(seeds) <= 1:
        totals = run_seeds(seeds, folder, template, processes=processes, partners_every=partners_every)
        return totals, totals.seeds < len(seeds)
    totals, stopped = Totals(), False
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_seeds, seeds[i::jobs], folder, template, processes=processes,
                               partners_every=partners_every) for i in range(jobs)]
        for future in futures:
            while True:
                try:
                    totals.add(future.result())
                    break
                except KeyboardInterrupt:  # the workers got it too: they return the seeds done
                    stopped = True
    return totals, stopped or totals.seeds < len(seeds)


def main() -> int:
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job starts with SIGINT ignored
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=500)
    parser.add_argument("--poison", type=int, default=2000)
    parser.add_argument("--sigkill-seeds", type=int, default=15,
                        help="seeds run with a process per run, SIGKILLed (about 15 kills a seed)")
    parser.add_argument("--partners-every", type=int, default=1,
                        help="every N-th seed runs the partner and carrier flows too (1: every seed)")
    parser.add_argument("--jobs", type=int, default=1, help="processes sharing the seeds")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="waybill-reliability-"))
    os.environ.setdefault("WAYBILL_HOME", str(folder / "home"))
    os.environ.setdefault("WAYBILL_SECRET_KEY", base64.b64encode(secrets.token_bytes(32)).decode())
    template = folder / "template.db"
    fresh_store(folder, "template.db").engine.dispose()

    drawn, reused = control_numbers(folder)
    ended = poison_trials(folder, args.poison, random.Random(1))
    # SIGKILL seeds first: they are the scarcer figure when a run is stopped early
    killed, stopped = soak([10_000 + s for s in range(args.sigkill_seeds)], folder, template, processes=True,
                           partners_every=args.partners_every, jobs=args.jobs)
    totals = Totals()
    if not stopped:
        totals, stopped = soak(list(range(args.seeds)), folder, template, processes=False,
                               partners_every=args.partners_every, jobs=args.jobs)
    if stopped:
        print("stopped: the figures are those of the seeds done", file=sys.stderr)
    kill_seeds = killed.seeds
    sigkills = killed.kills
    killed.kills = killed.seeds = 0  # counted apart: in-process kills and SIGKILLs
    totals.add(killed)
    how = ", ".join(f"{k} {v}" for k, v in sorted(ended.items()))
    docs = ", ".join(f"{k} {v}" for k, v in sorted(totals.documents.items()))
    print(f"reliability: crash trials {totals.kills} in-process + {sigkills} SIGKILL ({kill_seeds} seeds "
          f"with a process per run), soak seeds {totals.seeds}, runs {totals.runs} "
          f"({totals.overlaps} overlapping), records compared {totals.compared:,}, lost {totals.lost}, "
          f"duplicated {totals.duplicated}, blocked {totals.blocked}, control numbers reused {reused} of {drawn}, "
          f"faults injected {totals.faults}, partner documents {totals.documents.total()} ({docs}), "
          f"poison inputs {args.poison} ({how}), "
          f"dead letters planted {totals.dead_planted} / other {totals.dead_other}")
    for problem in itertools.islice(totals.problems, 10):
        print(f"  {problem}")
    bad = totals.lost + totals.duplicated + totals.blocked + totals.dead_other + reused
    return 1 if bad or ended["raised"] or ended["lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
