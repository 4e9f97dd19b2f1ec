"""Seeded fault injection per endpoint, for the simulators.

A `Faults` plan maps endpoint patterns (fnmatch style, first match wins, e.g. "/jsonrpc",
"sale.order/*", "*") to `FaultRates`. For each request the server asks `draw(endpoint)` and gets
one fault kind or None:

- "throttle": answer 429 with a Retry-After header (`retry_after` seconds);
- "error":    answer a transient 5xx (`status`, 503 by default) with a JSON error body;
- "slow":     wait `slow_seconds` (set it past the client's read timeout), then answer normally;
- "drop":     close the connection without answering.

Draws come from one random.Random(seed), so the same seed and the same request sequence give the
same faults. The plan can be changed while the server runs (`set`), and `injected` counts what was
injected per endpoint and kind, for tests to check that faults really happened.

From the command line a plan is JSON: {"seed": 7, "*": {"throttle": 0.1, "error": 0.1}}.
"""

from __future__ import annotations

import fnmatch
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, fields

KINDS: tuple[str, ...] = ("throttle", "error", "slow", "drop")


@dataclass(frozen=True)
class FaultRates:
    """Probabilities (0..1, summed at most 1) of each fault kind on one endpoint, and their shape."""

    throttle: float = 0.0
    error: float = 0.0
    slow: float = 0.0
    drop: float = 0.0
    retry_after: int = 1
    slow_seconds: float = 2.0
    status: int = 503

    def __post_init__(self) -> None:
        total = sum(getattr(self, k) for k in KINDS)
        if any(getattr(self, k) < 0 for k in KINDS) or total > 1.0 + 1e-9:
            raise ValueError(f"fault rates must be >= 0 and sum to at most 1, got {total}")

    @classmethod
    def transient(cls, rate: float, **shape: float) -> FaultRates:
        """`rate` spread evenly over the four kinds (e.g. 0.3 -> 7.5% each)."""
        return cls(**{k: rate / len(KINDS) for k in KINDS}, **shape)  # type: ignore[arg-type]


class Faults:
    """A seeded, thread-safe fault plan: endpoint pattern -> FaultRates."""

    def __init__(self, plan: dict[str, FaultRates] | None = None, seed: int = 0) -> None:
        self._plan: dict[str, FaultRates] = dict(plan or {})
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.injected: Counter[tuple[str, str]] = Counter()

    @classmethod
    def from_json(cls, text: str) -> Faults:
        """A plan from JSON: {"seed": N, "<pattern>": {"throttle": 0.1, ...}, ...}."""
        data = json.loads(text)
        seed = int(data.pop("seed", 0))
        known = {f.name for f in fields(FaultRates)}
        plan = {}
        for pattern, rates in data.items():
            unknown = set(rates) - known
            if unknown:
                raise ValueError(f"faults for {pattern!r}: unknown keys {sorted(unknown)}")
            plan[pattern] = FaultRates(**rates)
        return cls(plan, seed)

    def set(self, pattern: str, rates: FaultRates | None) -> None:
        """Add, replace (or with None remove) the rates of one endpoint pattern."""
        with self._lock:
            if rates is None:
                self._plan.pop(pattern, None)
            else:
                self._plan[pattern] = rates

    def rates_for(self, endpoint: str) -> FaultRates | None:
        with self._lock:
            for pattern, rates in self._plan.items():
                if fnmatch.fnmatchcase(endpoint, pattern):
                    return rates
        return None

    def draw(self, endpoint: str) -> tuple[str, FaultRates] | None:
        """The fault to inject on this request to `endpoint` (kind and its shape), or None."""
        rates = self.rates_for(endpoint)
        if rates is None:
            return None
        with self._lock:
            x = self._rng.random()
            for kind in KINDS:
                x -= getattr(rates, kind)
                if x < 0:
                    self.injected[(endpoint, kind)] += 1
                    return kind, rates
        return None

    def total(self) -> int:
        """How many faults were injected so far, on every endpoint."""
        return sum(self.injected.values())
