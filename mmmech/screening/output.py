"""The final table of a screen: the output path checked, rows ranked, the file written atomically.

Rows are ranked within each context by the chosen metric (the ensemble mean with an ensemble),
most synergistic first, undefined scores last, ties in enumeration order. Parquet files carry
the configuration, notes and fingerprint as JSON under the schema metadata key ``mmmech``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._typing import PathLike
from ..exceptions import InvalidInputError
from ..utils import atomic_output, output_target
from .journal import JOURNAL_SUFFIX
from .planning import ScreenPlan
from .tasks import Row, _Spec

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    import pandas as pd

__all__ = ["OUT_FORMATS"]

#: accepted output extensions -> format
OUT_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def _check_out(out: PathLike | None, func: str) -> tuple[str | None, str | None]:
    """The output path and format (``"parquet"`` or ``"csv"``), checked before any work; the
    output and the journal beside it may only replace regular files."""
    if out is None:
        return None, None
    p = os.fspath(out)
    ext = os.path.splitext(p)[1].lower()
    if ext not in OUT_FORMATS:
        raise InvalidInputError(
            f"{func}(): the output file must end in "
            f"{', '.join(OUT_FORMATS)} (Parquet or CSV, chosen by extension), "
            f"got {p!r}"
        )
    folder = os.path.dirname(os.path.abspath(p))
    if not os.path.isdir(folder):
        raise InvalidInputError(f"{func}(): the folder of the output file {p!r} does not exist")
    if os.path.isdir(p):
        raise InvalidInputError(f"{func}(): the output path {p!r} is a folder")
    # only a regular file (or a link to one) is replaced, output and journal alike
    output_target(p, prefix=f"{func}(): ")
    output_target(p + JOURNAL_SUFFIX, prefix=f"{func}(): ")
    if OUT_FORMATS[ext] == "parquet":
        try:
            # deferred: pyarrow is only needed to write Parquet (and is slow to import)
            import pyarrow  # noqa: F401
        except ImportError:  # pragma: no cover - a declared dependency
            raise InvalidInputError(
                f"{func}(): writing Parquet needs pyarrow; install it or write .csv"
            ) from None
    return p, OUT_FORMATS[ext]


def _columns(spec: _Spec) -> list[str]:
    cols = ["context", "rank", "combination", "size"] + [
        f"drug_{j + 1}" for j in range(spec.max_size)
    ]
    for m in spec.metrics:
        cols.append(m)
        if spec.ensemble > 1:
            cols += [f"{m}_mean", f"{m}_low", f"{m}_high"]
    return cols + [
        "effect_combination",
        "effect_best_single",
        "doses_nM",
        "members",
        "converged",
        "notes",
    ]


def _rank_column(spec: _Spec, rank_by: str) -> str:
    return f"{rank_by}_mean" if spec.ensemble > 1 else rank_by


def _assemble(plan_: ScreenPlan, rows_by_key: Mapping[str, Row], rank_by: str) -> pd.DataFrame:
    """The ranked table: plan order within each context, sorted by context then rank."""
    # deferred: pandas takes a few hundred ms to import; only the final table needs it
    import pandas as pd

    spec = plan_.spec
    rows = [rows_by_key[k] for k in plan_.keys]  # plan order: deterministic
    rcol = _rank_column(spec, rank_by)
    order = {c: i for i, c in enumerate(spec.context_names)}
    ranked: list[Row] = []
    for cname in spec.context_names:
        block = [(i, r) for i, r in enumerate(rows) if r["context"] == cname]
        # descending score; undefined scores last; ties keep the enumeration order
        block.sort(
            key=lambda ir: (
                not math.isfinite(ir[1][rcol]),
                -ir[1][rcol] if math.isfinite(ir[1][rcol]) else 0.0,
                ir[0],
            )
        )
        for rank, (_, r) in enumerate(block, 1):
            ranked.append(dict(r, rank=rank))
    ranked.sort(key=lambda r: (order[r["context"]], r["rank"]))
    cols = _columns(spec)
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in ranked], columns=cols)
    df["rank"] = df["rank"].astype("int64")
    df["size"] = df["size"].astype("int64")
    df["members"] = df["members"].astype("int64")
    df["converged"] = df["converged"].astype(bool)
    df["notes"] = df["notes"].fillna("")
    return df


def _write_final(df: pd.DataFrame, path: str, fmt: str, meta: Mapping[str, Any]) -> None:
    """Write the table atomically (a temporary file moved over `path`), fsynced."""
    with atomic_output(path, fsync=True) as tmp:
        if fmt == "parquet":
            # deferred: pyarrow is only needed to write Parquet (and is slow to import)
            import pyarrow as pa
            import pyarrow.parquet as pq  # deferred, as above

            table = pa.Table.from_pandas(df, preserve_index=False)
            md = dict(table.schema.metadata or {})
            md[b"mmmech"] = json.dumps(meta, default=str).encode("utf-8")
            pq.write_table(table.replace_schema_metadata(md), tmp)
        else:
            df.to_csv(tmp, index=False)
