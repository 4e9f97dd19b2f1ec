"""The generic pull loop of the back-office flows: cursor -> fetch pages -> map -> apply.

For one (system, stream): read the stream's cursor from the store, fetch pages after it, map each
page with a pure mapping into an InboundMessage (entities, plus a Reject for every record that
cannot be mapped) and apply it with the cursor after that page, so data, cursor and outbox rows
commit together and a crash resumes from the last applied page. Empty pages write nothing but a
cursor that moved (records read and found not to concern the stream). The
next page is fetched and mapped while the current one is stored (read_ahead). A pass that read the
stream to its end is recorded with the time it started (waybill.store.cursors.record_pass): the hub
then holds everything the source had changed before that time.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from queue import Full, Queue
from typing import Any, TypeVar

from waybill.canonical import model
from waybill.connectors.pages import Page
from waybill.core.errors import RecordRejected
from waybill.core.logs import event, get_logger
from waybill.flows.counts import FlowCounts
from waybill.store import cursors
from waybill.store.store import ApplyResult, Store, collector_paused, utcnow

log = get_logger("flows.sync")
T = TypeVar("T")

Fetch = Callable[[str | None], Iterable[Page]]
#: page -> (entities, rejects): a pure mapping of every record of the page
MapPage = Callable[[Page], tuple[list[model.Entity], list[model.Reject]]]


@dataclass(frozen=True)
class Pulled:
    """One pass over a stream: its counts, and how many pages the source answered (empty ones too)."""

    counts: FlowCounts
    pages: int


@dataclass(frozen=True)
class Options:
    """How a run reads its streams (the DAG's Params, `waybill` options).

    full_refresh: read each stream from its start instead of its cursor (what is stored already is
    found unchanged and written again by nobody); start: a cursor per stream to start from instead
    (e.g. "changed since" a time, built by the connector); dry_run: map and apply every page in a
    transaction that is rolled back: the counts say what the run would change, nothing is written
    and no cursor moves (each page is counted against the hub as it is, without the pages before it).
    """

    full_refresh: bool = False
    start: dict[str, str] | None = None
    dry_run: bool = False


def pull(store: Store, system: str, stream: str, *, fetch: Fetch, map_page: MapPage,
         options: Options = Options()) -> Pulled:
    """One incremental pass over a stream."""
    counts, pages = FlowCounts(), 0
    began = utcnow()
    if options.start and stream in options.start:
        current: str | None = options.start[stream]
    else:
        current = None if options.full_refresh else store.get_cursor(system, stream)
    # Mapping runs in the read-ahead thread too: it overlaps the store's writes, which release the GIL.
    pending = ((page, to_message(page, map_page) if page.records else None) for page in fetch(current))
    with collector_paused():
        for page, message in read_ahead(pending):
            pages += 1
            if message is None:  # nothing to store; a cursor that moved all the same is kept
                if page.cursor is not None and page.cursor != current:
                    store.apply(model.Batch(system, stream, [], cursor=page.cursor), dry_run=options.dry_run)
                    current = page.cursor
                continue
            result = store.apply(model.Batch(system, stream, [message], cursor=page.cursor), dry_run=options.dry_run)
            current = page.cursor
            counts += counts_of(result, len(page.records))
    if not options.dry_run and not (options.start and stream in options.start):
        # read to its end from where the hub stood: complete as of `began` (a pass from a given
        # start may have left out what came before it)
        with store.begin() as conn:
            cursors.record_pass(conn, system, stream, started=began, finished=utcnow())
    event(log, "dry-run pulled" if options.dry_run else "pulled", system=system, stream=stream, pages=pages,
          **counts.as_dict())
    return Pulled(counts, pages)


def pull_streams(store: Store, system: str, streams: Iterable[str], *,
                 fetch: Callable[[str, str | None], Iterable[Page]],
                 map_page: Callable[[str, str, Page], tuple[list[model.Entity], list[model.Reject]]],
                 options: Options = Options()) -> FlowCounts:
    """One pass over each of `streams` in turn, with a connector's fetch(stream, cursor) and a flow's
    map_page(system, stream, page); returns the summed counts."""
    counts = sum((pull(store, system, s, fetch=partial(fetch, s), map_page=partial(map_page, system, s),
                       options=options).counts for s in streams), FlowCounts())
    return counts if options.dry_run else counts + redrive(store)


def redrive(store: Store) -> FlowCounts:
    """The end of an inbound run: parked records whose reference has come are stored, those that
    waited too long are dead-lettered (waybill.store.parking)."""
    done = store.redrive()
    return FlowCounts(stored=done.stored, dead=done.dead)


def counts_of(result: ApplyResult, received: int) -> FlowCounts:
    """The counts of one apply of `received` source records: rows inserted or changed are stored;
    records the hub holds as they are, older versions and messages it processed before (same
    content) are unchanged; the outbox rows created are queued."""
    return FlowCounts(received=received, stored=result.inserted + result.updated + result.redriven,
                      unchanged=result.unchanged + result.stale + result.duplicates, rejected=result.rejected,
                      dead=result.dead, queued=result.outbox, retry=result.parked)


def read_ahead(pages: Iterable[T]) -> Iterator[T]:
    """Iterate `pages` with the next one fetched in a thread meanwhile, so that the source's
    serving time and our mapping and storing overlap. Order is kept; an error of the fetch is
    raised where its page would have been; stopping early stops the fetching."""
    queue: Queue[tuple[str, Any]] = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                while not stop.is_set():
                    try:
                        queue.put(("page", page), timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(("end", None))
        except BaseException as err:
            queue.put(("error", err))

    worker = threading.Thread(target=produce, name="read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def to_message(page: Page, map_page: MapPage) -> model.InboundMessage:
    entities, rejects = map_page(page)
    return model.InboundMessage(raw=page.raw, key=page.key, entities=entities, rejects=rejects)


def replayer(stream: str, page_from_raw: Callable[[str, bytes], Page],
             map_page: Callable[[str, str, Page], tuple[list[model.Entity], list[model.Reject]]]
             ) -> Callable[[str, bytes], model.InboundMessage]:
    """The replay mapper of a stream (waybill.flows.replay): a logged page's raw bytes -> InboundMessage."""
    def replay_page(system: str, raw: bytes) -> model.InboundMessage:
        return to_message(page_from_raw(stream, raw), lambda page: map_page(system, stream, page))

    replay_page.__name__ = f"replay_{stream}"
    return replay_page


def collect(records: Iterable[T], map_one: Callable[[T], Any], key_of: Callable[[T], str],
            context: str = "") -> tuple[list[model.Entity], list[model.Reject]]:
    """Map each record; one that raises becomes a Reject with its raw JSON.

    `map_one` may return one entity or a sequence of them (e.g. a shipment and its events). It is
    pure, so whatever it raises on one record (a list where a dict was expected, a string where a
    number was) is that record's fault: the record is dead-lettered and the page goes on.
    """
    entities: list[model.Entity] = []
    rejects: list[model.Reject] = []
    for rec in records:
        try:
            out = map_one(rec)
        except Exception as err:  # any failure of a pure mapping is the record's
            reason, path = (err.reason, err.field_path) if isinstance(err, RecordRejected) else (
                f"malformed record: {type(err).__name__}: {err}", None)
            rejects.append(model.Reject(_safe_key(key_of, rec), f"{context}: {reason}" if context else reason, path,
                                        json.dumps(rec, sort_keys=True, default=str).encode()))
            continue
        if isinstance(out, Sequence) and not isinstance(out, (str, bytes)):
            entities.extend(out)
        else:
            entities.append(out)
    return entities, rejects


def _safe_key(key_of: Callable[[Any], str], rec: Any) -> str:
    try:
        return str(key_of(rec))
    except Exception:  # a record too broken to name still gets its dead letter
        return "?"
