"""What the soak saw: every request's outcome, every fault, every acknowledged key."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from dataclasses import dataclass, field

# A request within this long of a database outage (after `start` returned) may
# still get its 503: the pool reconnects with a backoff of up to 3 s.
RECOVERY_GRACE = 5.0


@dataclass(frozen=True)
class Outcome:
    route: str
    started: float  # time.monotonic()
    ended: float
    status: int | None  # None: a transport error (connection refused, reset)
    error: str = ""  # the transport error's class, or the body of an HTTP error


@dataclass
class Fault:
    kind: str  # postgres | worker | listener
    started: float
    ended: float = 0.0
    detail: str = ""
    restarting: float = 0.0  # postgres: when its start began (it was down until then)


@dataclass
class Record:
    outcomes: list[Outcome] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    sent: set[str] = field(default_factory=set)  # every event_id sent at least once
    acked: set[str] = field(default_factory=set)  # every event_id answered 2xx
    retried: int = 0  # deliveries that needed more than one attempt
    redeliveries: int = 0  # acknowledged events sent again on purpose
    redelivered_not_duplicate: int = 0  # ...answered otherwise than 200 duplicate
    batch_miscounts: int = 0  # batches whose inserted + duplicates != their size
    health: list[tuple[float, bool]] = field(default_factory=list)  # the prober's view

    def outcome(self, route: str, started: float, status: int | None, error: str = "") -> None:
        self.outcomes.append(Outcome(route, started, time.monotonic(), status, error))

    def outages(self) -> list[tuple[float, float]]:
        """When the database was down, widened by the pool's recovery grace."""
        return [
            (f.started, (f.ended or time.monotonic()) + RECOVERY_GRACE)
            for f in self.faults
            if f.kind == "postgres"
        ]

    def during_outage(self, outcome: Outcome) -> bool:
        return any(
            outcome.started <= end and outcome.ended >= start for start, end in self.outages()
        )

    def statuses(self) -> Counter[str]:
        """Answers by status (transport errors by class)."""
        return Counter(str(o.status) if o.status else o.error for o in self.outcomes)

    def faults_by_kind(self) -> Counter[str]:
        return Counter(f.kind for f in self.faults)

    def longest_unavailability(self) -> float:
        """The longest stretch between two successful health probes (seconds)."""
        return max((end - start for start, end in self.gaps()), default=0.0)

    def gaps(self) -> list[tuple[float, float]]:
        """Every stretch between two successful health probes."""
        oks = [at for at, ok in self.health if ok]
        return list(itertools.pairwise(oks))

    def worst_gaps(self, origin: float, n: int = 3) -> list[str]:
        """The n longest gaps: when (seconds after `origin`), how long, and the
        faults that overlapped them."""
        worst = sorted(self.gaps(), key=lambda g: g[0] - g[1])[:n]
        return [
            f"at {start - origin:.0f} s: {end - start:.1f} s, during "
            + (", ".join(f.kind for f in self._overlapping(start, end)) or "no fault")
            for start, end in worst
        ]

    def _overlapping(self, start: float, end: float) -> list[Fault]:
        return [f for f in self.faults if f.started <= end and (f.ended or end) >= start]

    def transport_errors(self) -> Counter[str]:
        """Transport errors by route and class."""
        return Counter(f"{o.route} {o.error}" for o in self.outcomes if o.status is None)
