"""Progress of a screen on stderr: a bar with rows done, rate and a work-weighted ETA."""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO

__all__: list[str] = []


def _hms(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _Progress:
    """A plain-text progress bar on stderr: ``\r`` updates on a TTY, periodic lines otherwise.

    Counts rows; the ETA weighs each row by its expected cost (`work`: dose-grid points x
    ensemble members), so pairs finishing fast do not make a screen with triplets look
    nearly done.
    """

    def __init__(
        self,
        total: int,
        done: int,
        enabled: bool = True,
        stream: TextIO | None = None,
        every: float = 30.0,
        work_total: float | None = None,
        work_done: float | None = None,
        label: str = "screen",
        unit: str = "rows",
    ) -> None:
        self.label, self.unit = label, unit
        self.total, self.done, self.start_done = total, done, done
        self.work_total = float(total if work_total is None else work_total)
        self.work_done = float(done if work_done is None else work_done)
        self.start_work = self.work_done
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self.t0 = time.monotonic()
        self.last_t = self.t0
        self.last_pct = -1
        self.every = every
        if self.enabled:
            self._show(force=True)

    def _line(self) -> str:
        new = self.done - self.start_done
        el = time.monotonic() - self.t0
        rate = new / el if el > 0 and new else 0.0
        wrate = (self.work_done - self.start_work) / el if el > 0 and new else 0.0
        eta = (self.work_total - self.work_done) / wrate if wrate > 0 else float("nan")
        if self.done >= self.total:
            eta = 0.0
        pct = 100.0 * self.done / self.total
        width = 24
        fill = int(width * self.done / self.total)
        bar = "#" * fill + "-" * (width - fill)
        return (
            f"{self.label} [{bar}] {self.done}/{self.total} ({pct:.0f}%) {rate:.2f} "
            f"{self.unit}/s "
            f"elapsed {_hms(el)} ETA {_hms(eta)}"
        )

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            if force or now - self.last_t >= 0.2 or self.done == self.total:
                self.stream.write("\r" + self._line() + "\x1b[K")
                self.stream.flush()
                self.last_t = now
            return
        pct10 = int(10 * self.done / self.total)
        if force or pct10 > self.last_pct or now - self.last_t >= self.every:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
            self.last_t, self.last_pct = now, pct10

    def update(self, n: int, work: float | None = None) -> None:
        self.done += n
        self.work_done += n if work is None else work
        if self.enabled:
            self._show()

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()
