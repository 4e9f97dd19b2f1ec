"""What one flow run did, in one vocabulary shared by every flow.

Each word means the same in every flow, in XCom (the task's result), in `waybill status` and in
`waybill demo`:

- received: records read from the source (API records, SOAP/REST replies' tracking numbers, EDI
  messages, outbox rows a publishing flow read);
- stored: canonical hub rows inserted or changed;
- unchanged: records the hub already holds as they are (same content, same file, older version);
- rejected: records the hub's validation refused (dead-lettered with their field path);
- dead: records or outbox rows dead-lettered for another reason (unmappable, refused for good by a
  target, no route);
- queued: outbox rows created for the targets (what a later publishing run will send);
- published: items delivered to a target (CRM records, ERP orders, finance files, partner documents);
- acks: acknowledgments sent to partners (997/999/TA1/CONTRL);
- retry: items left pending after a transient failure, for the next run, and records parked until
  what they refer to arrives (an order before its customer: waybill.store.parking).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class FlowCounts:
    """The counts of one flow run; add two with `+`."""

    received: int = 0
    stored: int = 0
    unchanged: int = 0
    rejected: int = 0
    dead: int = 0
    queued: int = 0
    published: int = 0
    acks: int = 0
    retry: int = 0

    def __add__(self, other: FlowCounts) -> FlowCounts:
        return FlowCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        """Every count by name, in the order above (what XCom and the hub's flow_run keep)."""
        return asdict(self)

    @property
    def changed(self) -> bool:
        """Whether the run changed anything in the hub or at a target."""
        return bool(self.stored or self.queued or self.published or self.acks)


#: the column order of every table of counts (`waybill status`, `waybill demo`)
NAMES: tuple[str, ...] = tuple(f.name for f in fields(FlowCounts))
