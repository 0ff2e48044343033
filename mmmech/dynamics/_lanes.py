"""Per-lane bookkeeping of :func:`mmmech.dynamics.cohort.simulate_cohort`'s network stage, for a
whole chunk of patients at once (round 11, docs/dynamics.md, Speed).

- :func:`distinct_rows`: the chunk's rows with distinct network inputs (the rows that need a
  kernel lane of their own) and every row's representative;
- :func:`segment_keys`: every patient's schedule key of every segment (cycle), for the cycle
  periodicity of :func:`mmmech.dynamics._course.periodic_course`.

Both give the decisions of the per-patient definitions they replace
(``cohort._distinct_rows`` and ``cohort._segment_keys``, kept as the references and tested
against these), without a Python loop over the patients' dose events or occupancy bytes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain, count, islice
from operator import attrgetter
from typing import Any

import numpy as np

from ._course import unique_rows

__all__ = ["ScheduleTable", "distinct_rows", "segment_keys"]

#: elements of each row's occupancy course compared first (evenly spaced over the row): rows
#: that differ there are distinct without reading the rest; rows equal there are compared whole
_PROBES = 64
#: rows compared whole at a time (bounds the temporaries)
_BLOCK = 128


def distinct_rows(spec: np.ndarray, occ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows with distinct network inputs and, for every row, the index of its
    representative among them; the same as ``cohort._distinct_rows`` (the reference).

    Two rows are merged only when their specs are equal and their occupancy courses are
    exactly equal: the same bytes and equal values (so neither -0.0 against 0.0 nor NaN is
    merged, as in the reference). The representatives are the first rows of their classes, in
    row order. Rows are first told apart by the spec and `_PROBES` elements of the course (a
    sort of R short rows); only rows that agree there are compared in full.
    """
    R = len(spec)
    inverse = np.empty(R, dtype=np.int64)
    if R == 0:
        return np.zeros(0, dtype=np.int64), inverse
    vals = np.ascontiguousarray(occ, dtype=np.float64).reshape(R, -1)  # a view if it can be
    bits = vals.view(np.uint64)
    L = bits.shape[1]
    at = np.unique(np.linspace(0, max(L - 1, 0), min(_PROBES, max(L, 1))).astype(np.int64))
    at = at[at < L]
    probe = np.concatenate(
        [np.asarray(spec, dtype=np.int64).view(np.uint64)[:, None], bits[:, at]], axis=1
    )
    cand = unique_rows(probe)[2]
    # rows that agree on the probes, compared whole: each class's first row (row order) is
    # its representative; a row with NaN merges with none (as in the reference)
    order = np.argsort(cand, kind="stable")
    cuts = np.flatnonzero(np.diff(cand[order])) + 1
    rep_of = np.arange(R)
    lo = np.concatenate([[0], cuts])
    hi = np.concatenate([cuts, [R]])
    for a, b in zip(lo[hi - lo > 1].tolist(), hi[hi - lo > 1].tolist(), strict=True):
        left = order[a:b]
        while left.size > 1:
            r0, rest = int(left[0]), left[1:]
            if np.isnan(vals[r0]).any():
                left = rest
                continue
            eq = np.concatenate(
                [
                    np.all(bits[rest[k : k + _BLOCK]] == bits[r0], axis=1)
                    for k in range(0, rest.size, _BLOCK)
                ]
            )
            rep_of[rest[eq]] = r0
            left = rest[~eq]
    reps = np.flatnonzero(rep_of == np.arange(R))
    pos = np.empty(R, dtype=np.int64)
    pos[reps] = np.arange(reps.size)
    inverse[:] = pos[rep_of]
    return reps.astype(np.int64), inverse


def _in_order(grp: np.ndarray, rec: np.ndarray) -> bool:
    """Are the events grouped by `grp` (non-decreasing) and, within each group, sorted by
    (rec[:, 0], rec[:, 1], rec[:, 2])? (Equal records may follow each other.)"""
    if grp.size < 2:
        return True
    g0, g1 = grp[:-1], grp[1:]
    if np.any(g1 < g0):
        return False
    x0, x1 = rec[:-1], rec[1:]
    same = g1 == g0
    lt0, eq0 = x0[:, 0] < x1[:, 0], x0[:, 0] == x1[:, 0]
    lt1, eq1 = x0[:, 1] < x1[:, 1], x0[:, 1] == x1[:, 1]
    le = lt0 | (eq0 & (lt1 | (eq1 & (x0[:, 2] <= x1[:, 2]))))
    return bool(np.all(le | ~same))


def _canonical_order(
    grp: np.ndarray, rec: np.ndarray, ev: np.ndarray, t: np.ndarray, table: ScheduleTable
) -> np.ndarray:
    """The order that sorts the events by (grp, day in the segment, kind, amount): by (grp,
    day, kind, amount), one rank per distinct event of the chunk (a sort of the distinct
    events, not of all), which is the same order since the day in the segment t - start does
    not decrease with t; where two different days would give the same day in the segment
    (rounding), by the day in the segment itself (a sort of all events)."""
    present = np.zeros(table.day.size, dtype=bool)
    present[ev] = True
    distinct = np.flatnonzero(present)
    by = np.lexsort((table.amount[distinct], table.kind[distinct], table.day[distinct]))
    rank = np.empty(table.day.size, dtype=np.int64)
    rank[distinct[by]] = np.arange(distinct.size)
    order = np.argsort(grp * distinct.size + rank[ev], kind="stable")
    g_o, r_o, t_o = grp[order], rec[order, 0], t[order]
    if np.any((g_o[1:] == g_o[:-1]) & (r_o[1:] == r_o[:-1]) & (t_o[1:] != t_o[:-1])):
        order = np.lexsort((rec[:, 2], rec[:, 1], rec[:, 0], grp))
    return order


@dataclass
class ScheduleTable:
    """What :func:`segment_keys` has seen so far (shared across a cohort's chunks).

    ``ids`` maps ``(phase, intervals, schedule bytes)`` to the key; ``events`` maps each
    distinct dose event (a ``DoseEvent`` tuple: equal tuples, one entry) to its row in
    ``day``, ``amount`` and ``kind`` (the code of its (drug, unit, route) in ``kinds``), so an
    event is read once per cohort, not once per patient."""

    ids: dict[tuple[int, int, bytes], int] = field(default_factory=dict)
    events: defaultdict[Any, int] = field(default_factory=lambda: defaultdict(count().__next__))
    kinds: dict[Any, int] = field(default_factory=dict)
    day: np.ndarray = field(default_factory=lambda: np.zeros(0))
    amount: np.ndarray = field(default_factory=lambda: np.zeros(0))
    kind: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def codes(self, flat: list[Any]) -> np.ndarray:
        """Each event's row (new events are added, with their fields)."""
        rows = np.fromiter(map(self.events.__getitem__, flat), np.int64, len(flat))
        old = self.day.size
        if len(self.events) > old:
            new = list(islice(self.events, old, None))  # insertion order: the new rows
            fields = [tuple(map(attrgetter(f), new)) for f in ("day", "amount")]
            kinds = list(map(attrgetter("drug", "unit", "route"), new))
            for k in dict.fromkeys(kinds):  # the few distinct (drug, unit, route)
                self.kinds.setdefault(k, len(self.kinds))
            kind = np.fromiter(map(self.kinds.__getitem__, kinds), np.float64, len(kinds))
            self.day = np.concatenate([self.day, np.asarray(fields[0], dtype=np.float64)])
            self.amount = np.concatenate([self.amount, np.asarray(fields[1], dtype=np.float64)])
            self.kind = np.concatenate([self.kind, kind])
        return rows


def segment_keys(
    segs: list[tuple[int, int]],
    events: Sequence[Sequence[Any]],
    K: int,
    step_hours: float,
    table: ScheduleTable,
) -> np.ndarray:
    """Every patient's schedule key per segment (P, S), as ``cohort._segment_keys`` per patient
    (the reference: equal keys exactly where its keys are equal, -1 where it gives -1).

    `events` holds each patient's dose events (``DoseEvent``: day, drug, amount, unit, route).
    A segment's schedule is the multiset of its events as (day within the segment, drug,
    amount, unit, route), with the segment's phase and length. Each event is looked up once
    (one dict lookup per event; a new event's fields are read once per cohort), assigned to
    its segment by a binary search on the segments' start days as the reference does; the
    events of each (patient, segment) are sorted into one canonical order and compared as
    bytes. -1: gaps and follow-up (phase < 0).
    """
    P, S = len(events), len(segs)
    out = np.full((P, S), -1, dtype=np.int64)
    if P == 0 or S == 0:
        return out
    ii = np.asarray([i for i, _ in segs] + [K], dtype=np.int64)
    phase = np.asarray([p for _, p in segs], dtype=np.int64)
    length = np.diff(ii)
    hd = 24.0 / float(step_hours)
    starts = ii[:-1].astype(np.float64) / hd  # as the reference: i / hd, bounds[j + 1] / hd
    ends = ii[1:].astype(np.float64) / hd
    # segments without events: the empty schedule
    empty = [
        table.ids.setdefault((int(p), int(n), b""), len(table.ids))
        for p, n in zip(phase.tolist(), length.tolist(), strict=True)
    ]
    for j in np.flatnonzero(phase >= 0):
        out[:, j] = empty[j]
    counts = np.fromiter(map(len, events), np.int64, P)
    n = int(counts.sum())
    if n == 0:
        return out
    ev = table.codes(list(chain.from_iterable(events)))
    t = table.day[ev] - 1.0
    j = np.searchsorted(starts, t, side="right") - 1
    jj = np.maximum(j, 0)
    ok = (j >= 0) & (t < ends[jj]) & (phase[jj] >= 0)
    pid = np.repeat(np.arange(P), counts)[ok]
    jj = jj[ok]
    if pid.size == 0:
        return out
    ev = ev[ok]
    rec = np.empty((pid.size, 3))
    rec[:, 0] = t[ok] - starts[jj] + 0.0  # + 0.0: -0.0 as 0.0, equal as in the reference
    rec[:, 1] = table.kind[ev]
    rec[:, 2] = table.amount[ev] + 0.0
    grp = pid * S + jj
    # within each (patient, segment), the events in one canonical order (sorted by day in
    # the segment, kind, amount): a patient's events usually come in it already (checked, no
    # sort); otherwise sorted
    if not _in_order(grp, rec):
        order = _canonical_order(grp, rec, ev, t[ok], table)
        rec = rec[order]
        grp = grp[order]
    cut = np.flatnonzero(np.diff(grp)) + 1
    lo = np.concatenate([[0], cut])
    hi = np.concatenate([cut, [grp.size]])
    buf = rec.tobytes()
    w = rec.shape[1] * rec.itemsize
    ids = table.ids
    ph, ln = phase.tolist(), length.tolist()
    keys = [
        ids.setdefault((ph[g], ln[g], buf[a * w : b * w]), len(ids))
        for g, a, b in zip((grp[lo] % S).tolist(), lo.tolist(), hi.tolist(), strict=True)
    ]
    out.reshape(-1)[grp[lo]] = keys
    return out
