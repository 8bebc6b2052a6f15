"""Progress bars on stderr and the wall time of each phase of a run."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


class Progress:
    """One bar per phase; silent when `enabled` is false. Records each phase's seconds."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(
        self, name: str, total: int | None = None, unit: str = "it"
    ) -> Iterator[Callable[[int], object]]:
        """Time a phase named `name`; yields a tick(n) that advances its bar."""
        started = time.perf_counter()
        with tqdm(
            total=total, desc=name, unit=unit, disable=None if self.enabled else True, leave=False
        ) as bar:
            yield bar.update
        self.seconds[name] = round(time.perf_counter() - started, 3)
        if self.enabled:
            tqdm.write(f"{name}: {self.seconds[name]:.1f}s")
