"""SynergyFinder's long table: reading, checking and cutting it into dose grids.

The format (SynergyFinder 3, ``ReshapeData``): one row per well and replicate with columns
``block_id``, ``drug1``, ``drug2`` [, ``drug3`` ...], ``conc1``, ``conc2`` [, ...],
``response`` and ``conc_unit`` (one unit for every drug) or ``conc_unit1``, ``conc_unit2``
[, ...]. The older two-drug names ``drug_row``/``drug_col``, ``conc_r``/``conc_c`` and
``conc_r_unit``/``conc_c_unit`` are accepted and renamed (as ``ReshapeData`` does). Other
columns (``cell_line_name`` ...) pass through.

Every problem is reported with the function, the column and the line of the file (``line``
counts the header as line 1) or the row of the table.
"""

import csv
import os
import re

import numpy as np
import pandas as pd

from ..exceptions import InvalidInputError, ModelFileError, UnitError
from ..units import MASS_UNITS, MOLAR_UNITS
from ..utils import did_you_mean

__all__ = ["read_table", "canonical_table", "iter_blocks", "Block"]

# other spellings SynergyFinder accepts (R ReshapeData and the web application's table format),
# compared without case and underscores
_ALIASES = {
    "blockid": "block_id",
    "pairindex": "block_id",
    "drugrow": "drug1",
    "drugcol": "drug2",
    "concr": "conc1",
    "concrow": "conc1",
    "concc": "conc2",
    "conccol": "conc2",
    "response": "response",
    "inhibition": "response",
    "concunit": "conc_unit",
    "concrunit": "conc_unit1",
    "conccunit": "conc_unit2",
}


def _canonical_name(col):
    key = col.lower().replace("_", "")
    if key in _ALIASES:
        return _ALIASES[key]
    if not key.startswith(("drug", "conc")):
        return col
    for pat, fmt in (
        (r"drug(\d+)", "drug{}"),
        (r"conc(\d+)", "conc{}"),
        (r"concunit(\d+)", "conc_unit{}"),
    ):
        m = re.fullmatch(pat, key)
        if m:
            return fmt.format(int(m.group(1)))
    return col


_KNOWN_UNITS = {**MOLAR_UNITS, **MASS_UNITS}
_LINE = "_line"  # hidden column: where a row came from (file line or table row)


def read_table(path, func="read_plate"):
    """Read a CSV/TSV file as strings (so that bad cells can be reported as written)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InvalidInputError(f"{func}(): no such file: {path!r}")
    if os.path.isdir(path):
        raise InvalidInputError(f"{func}(): {path!r} is a folder, expected a CSV file")
    sep = "\t" if path.lower().endswith((".tsv", ".tab")) else ","
    try:
        df = _read_wide(path, sep, func)
        if df is None:
            df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise ModelFileError(
            f"{func}(): {path!r} is empty; expected SynergyFinder's long table with a header line"
        ) from exc
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = " ".join(str(exc).split())
        raise ModelFileError(f"{func}(): {path!r} is not a readable CSV table: {msg}") from exc
    if df.empty:
        raise ModelFileError(f"{func}(): {path!r} has a header but no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    df[_LINE] = [f"line {i + 2}" for i in range(len(df))]
    return df


_WIDE = 1000  # header fields from which a table is read by _read_wide


def _read_wide(path, sep, func):
    """A table with very many columns (extra annotation columns), read as one block of
    strings; None for ordinary tables (read by pandas). pandas builds one array per column,
    which takes a minute for 200,000 columns; the csv module and one object block take a
    second. Cells are read as pandas does here (strings, no NA conversion, initial spaces
    skipped)."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            head = fh.readline(1 << 22)  # bounded: a file without newlines is not wide
            if head.count(sep) < _WIDE:
                return None
            fh.seek(0)
            rows = list(csv.reader(fh, delimiter=sep, skipinitialspace=True))
    except csv.Error as exc:
        raise ModelFileError(f"{func}(): {path!r} is not a readable CSV table: {exc}") from None
    if head.startswith("\ufeff") and rows and rows[0]:
        rows[0][0] = rows[0][0][1:]
    rows = [r for r in rows if r]
    if len(rows) < 2:
        raise (
            pd.errors.EmptyDataError("no data rows")
            if not rows
            else ModelFileError(f"{func}(): {path!r} has a header but no data rows")
        )
    width = len(rows[0])
    for i, r in enumerate(rows[1:], 2):
        if len(r) != width:
            raise ModelFileError(
                f"{func}(): {path!r} is not a readable CSV table: expected "
                f"{width} fields in line {i}, saw {len(r)}"
            )
    return pd.DataFrame(np.array(rows[1:], dtype=object), columns=rows[0], dtype=object)


def _where(df, mask, n=3):
    rows = df.loc[mask, _LINE].tolist()
    more = f" (and {len(rows) - n} more)" if len(rows) > n else ""
    return ", ".join(rows[:n]) + more


def _numeric(df, col, func, what):
    """Column as float; non-numeric or missing cells are located in the message."""
    raw = df[col]
    num = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = num.isna() | ~np.isfinite(num.to_numpy())
    if bad.any():
        first = raw[bad].iloc[0]
        shown = repr(first) if not (isinstance(first, float) and np.isnan(first)) else "empty"
        if isinstance(first, str) and not first.strip():
            shown = "an empty cell"
        raise InvalidInputError(
            f"{func}(): {what} column {col!r} must hold finite numbers; {shown} at "
            f"{_where(df, bad)}"
        )
    return num


def canonical_table(df, func="score_table"):
    """Check a long table and return it in canonical form.

    Returns
    -------
    (table, K)
        ``table`` has the columns ``block_id``, ``drug1..K``, ``conc1..K`` (float, >= 0),
        ``conc_unit1..K``, ``response`` (float, as given), the hidden ``_line`` and any other
        columns; ``K`` is the number of drug columns.
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(
            f"{func}(): expected a pandas DataFrame in SynergyFinder's long "
            f"format, got {type(df).__name__}"
        )
    if df.empty:
        raise InvalidInputError(f"{func}(): the table has no rows")
    df = df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    names = {c: (_canonical_name(c) if c != _LINE else c) for c in df.columns}
    seen = {}
    for c, n in names.items():
        if n in seen:
            raise InvalidInputError(
                f"{func}(): columns {seen[n]!r} and {c!r} both mean {n!r}; keep one"
            )
        seen[n] = c
    df = df.rename(columns=names)
    if _LINE not in df.columns:
        df[_LINE] = [f"row {i}" for i in df.index]
    drug_n = sorted(int(m.group(1)) for c in df.columns if (m := re.fullmatch(r"drug(\d+)", c)))
    conc_n = sorted(int(m.group(1)) for c in df.columns if (m := re.fullmatch(r"conc(\d+)", c)))
    K = max(drug_n + conc_n + [0])
    need = (
        ["block_id", "response"]
        + [f"drug{i}" for i in range(1, max(K, 2) + 1)]
        + [f"conc{i}" for i in range(1, max(K, 2) + 1)]
    )
    has_unit = "conc_unit" in df.columns or any(
        re.fullmatch(r"conc_unit\d+", c) for c in df.columns
    )
    if K == 1:
        raise InvalidInputError(
            f"{func}(): the table holds a single drug (drug1/conc1 only); a combination needs "
            "at least two drugs (drug2 and conc2)"
        )
    missing = [c for c in need if c not in df.columns]
    if not has_unit:
        missing.append("conc_unit")
    if missing:
        present = [x for x in df.columns if x != _LINE]
        for sep, label in (("\t", "tab"), (";", "semicolon")):
            if len(present) <= 2 and any(sep in x and x.count(sep) >= 2 for x in present):
                raise InvalidInputError(
                    f"{func}(): the header {present[0][:80]!r} is one column holding "
                    f"{label}s: the file looks {label}-separated; save it comma-separated "
                    f"(CSV){' or name it .tsv' if label == 'tab' else ''}"
                )
        hints = "".join(dict.fromkeys(did_you_mean(c, present) for c in missing))
        raise InvalidInputError(
            f"{func}(): the table lacks column(s) {', '.join(repr(c) for c in missing)}"
            f"{hints}. SynergyFinder's long format needs block_id, drug1, drug2, ..., conc1, "
            "conc2, ..., response and conc_unit (or conc_unit1, conc_unit2, ...)"
        )
    if K < 2:
        raise InvalidInputError(
            f"{func}(): the table holds a single drug; a combination needs "
            "at least two (drug1, drug2 and conc1, conc2)"
        )
    for i in range(1, K + 1):
        uc = f"conc_unit{i}"
        if uc not in df.columns:
            if "conc_unit" not in df.columns:
                raise InvalidInputError(
                    f"{func}(): the table lacks column {uc!r} (or one 'conc_unit' for every drug)"
                )
            df[uc] = df["conc_unit"]
    if "conc_unit" in df.columns:
        df = df.drop(columns="conc_unit")
    for i in range(1, K + 1):
        c = f"conc{i}"
        df[c] = _numeric(df, c, func, "concentration")
        neg = df[c] < 0
        if neg.any():
            raise InvalidInputError(
                f"{func}(): concentrations must be >= 0; {c} = {df.loc[neg, c].iloc[0]:g} at "
                f"{_where(df, neg)}"
            )
        # units: known, and written the same way within a drug column
        u = df[f"conc_unit{i}"].astype(str).str.strip()
        df[f"conc_unit{i}"] = u
        for unit in pd.unique(u):
            if unit not in _KNOWN_UNITS:
                close = [k for k in _KNOWN_UNITS if k.lower() == unit.lower()]
                hint = f"; did you mean {close[0]!r}?" if close else ""
                shown = repr(unit) if unit else "an empty unit"
                raise UnitError(
                    f"{func}(): unknown concentration unit {shown} in column conc_unit{i} at "
                    f"{_where(df, u == unit)}; expected one of "
                    f"{', '.join(k for k in _KNOWN_UNITS if k not in ('μM', 'μg/mL'))}{hint}"
                )
    df["response"] = _numeric(df, "response", func, "response")
    for i in range(1, K + 1):
        d = df[f"drug{i}"]
        df[f"drug{i}"] = d.where(d.isna(), d.astype(str).str.strip())
    blank = df["block_id"].isna() | (df["block_id"].astype(str).str.strip() == "")
    if blank.any():
        raise InvalidInputError(f"{func}(): block_id is empty at {_where(df, blank)}")
    return df, K


class Block:
    """One block of a long table on its full factorial dose grid.

    Attributes
    ----------
    block_id : object
    drugs : list of str (K names)
    units : list of str (K units, as written)
    doses : list of K 1-D float arrays (sorted, first 0), in the block's units
    mean : ndarray, shape (n_1, ..., n_K)
        Replicate mean response per well, as given (not converted).
    values : list of 1-D arrays
        The replicate responses of each well, in C order of the grid.
    replicates : int
        Largest number of replicates of a well.
    extra : dict
        Other columns whose value is constant within the block.
    file_order : ndarray (n_1, ..., n_K) of int
        Row (0-based, within the block) of each well's first replicate: SynergyFinder fits
        each series in the order of its table's rows (set by :func:`iter_blocks`).
    """

    def __init__(self, block_id, drugs, units, doses, mean, values, extra):
        self.block_id = block_id
        self.drugs = drugs
        self.units = units
        self.doses = doses
        self.mean = mean
        self.values = values
        self.replicates = max(len(v) for v in values)
        self.extra = extra


def _fmt_dose(x, unit):
    return f"{x:g} {unit}"


#: largest dose grid (wells) of one block: a full factorial grid grows as n**K with K drugs;
#: far beyond any real plate, and small enough for the per-well arrays of the fits
MAX_BLOCK_WELLS = 1_000_000


def _check_grid_size(shape, n_rows, drugs, where, func):
    """Refuse a block whose full factorial grid has more than MAX_BLOCK_WELLS wells, before
    anything of that size is allocated (smaller incomplete grids get the detailed message)."""
    wells = 1
    for n in shape:
        wells *= n  # Python int: never overflows
    if wells <= MAX_BLOCK_WELLS:
        return
    lo, hi = min(shape), max(shape)
    each = f"{lo}" if lo == hi else f"{lo} to {hi}"
    rows = (
        f"the block has only {n_rows} rows, so most of the grid is missing"
        if wells > n_rows
        else f"more than the limit of {MAX_BLOCK_WELLS:,} wells"
    )
    raise InvalidInputError(
        f"{func}(): {where}: {len(drugs)} drugs with {each} doses each (counting 0) span a full "
        f"dose grid of {wells:,} wells; {rows}. Score fewer drugs per block (give each "
        "combination its own block_id) or fewer doses per drug"
    )


def iter_blocks(table, K, func="score_table"):
    """Yield a :class:`Block` per block_id (in order of first appearance), checking that each
    holds two or more distinct drugs on a full factorial grid with monotherapies and control."""
    std = (
        {"block_id", "response", _LINE}
        | {f"drug{i}" for i in range(1, K + 1)}
        | {f"conc{i}" for i in range(1, K + 1)}
        | {f"conc_unit{i}" for i in range(1, K + 1)}
    )
    extras = [c for c in table.columns if c not in std]
    # the checks need the standard columns only; the extra columns (any number of them) are
    # taken once as one array and only tested for being constant within each block
    narrow = pd.DataFrame({c: table[c] for c in table.columns if c in std})
    narrow["_pos"] = np.arange(len(table))
    extra_vals = None
    if extras:
        pos = [i for i, c in enumerate(table.columns) if c not in std]
        extra_vals = table.to_numpy(dtype=object)[:, pos]
    for bid, blk in narrow.groupby("block_id", sort=False):
        where = f"block {bid!r}"
        # drugs present in this block: named columns (a column may be empty for fewer drugs)
        idx = []
        for i in range(1, K + 1):
            names = blk[f"drug{i}"]
            if names.isna().all() or (names.astype(str).str.strip() == "").all():
                if (blk[f"conc{i}"] > 0).any():
                    raise InvalidInputError(
                        f"{func}(): {where}: conc{i} is positive but drug{i} has no name, at "
                        f"{_where(blk, blk[f'conc{i}'] > 0)}"
                    )
                continue
            uniq = pd.unique(names)
            if len(uniq) != 1:
                raise InvalidInputError(
                    f"{func}(): {where}: drug{i} must name one drug per block, found "
                    f"{', '.join(repr(str(u)) for u in uniq[:4])}"
                )
            units = pd.unique(blk[f"conc_unit{i}"])
            if len(units) != 1:
                raise UnitError(
                    f"{func}(): {where}: {uniq[0]!r} (conc{i}) is given in several "
                    f"units ({', '.join(map(str, units))}); use one unit per drug"
                )
            idx.append(i)
        drugs = [str(blk[f"drug{i}"].iloc[0]) for i in idx]
        if len(drugs) < 2:
            raise InvalidInputError(
                f"{func}(): {where} holds a single drug ({', '.join(map(repr, drugs)) or 'none'});"
                " a combination needs at least two"
            )
        seen = {}
        for i, d in zip(idx, drugs, strict=True):
            if d.lower() in seen:
                raise InvalidInputError(
                    f"{func}(): {where}: drug {d!r} appears twice (drug{seen[d.lower()]} and "
                    f"drug{i}); each drug of a combination must be different"
                )
            seen[d.lower()] = i
        units = [str(blk[f"conc_unit{i}"].iloc[0]) for i in idx]
        conc = blk[[f"conc{i}" for i in idx]].to_numpy(dtype=float)
        doses = [np.unique(conc[:, j]) for j in range(len(idx))]
        for j, (d, name) in enumerate(zip(doses, drugs, strict=True)):
            if d[-1] <= 0:
                raise InvalidInputError(
                    f"{func}(): {where}: {name!r} is never given (every conc{idx[j]} is 0)"
                )
        others_zero = [np.all(np.delete(conc, j, axis=1) == 0, axis=1) for j in range(len(idx))]
        allzero = np.all(conc == 0, axis=1)
        if not allzero.any():
            raise InvalidInputError(
                f"{func}(): {where} has no control well (every drug at dose 0); the monotherapy "
                "responses and the Bliss and HSA references need it"
            )
        for j, name in enumerate(drugs):
            mono = others_zero[j] & (conc[:, j] > 0)
            if not mono.any():
                raise InvalidInputError(
                    f"{func}(): {where} has no monotherapy wells for {name!r} (conc{idx[j]} > 0 "
                    "with every other drug at 0); the scores need each drug's monotherapy "
                    "row/column"
                )
            have = set(conc[mono, j])
            lack = [x for x in doses[j][1:] if x not in have]
            if lack:
                raise InvalidInputError(
                    f"{func}(): {where}: the monotherapy of {name!r} lacks dose(s) "
                    f"{', '.join(_fmt_dose(x, units[j]) for x in lack[:4])} that the "
                    "combinations use"
                )
        shape = tuple(len(d) for d in doses)
        _check_grid_size(shape, len(blk), drugs, where, func)
        pos = tuple(np.searchsorted(doses[j], conc[:, j]) for j in range(len(idx)))
        flat = np.ravel_multi_index(pos, shape)
        y = blk["response"].to_numpy(dtype=float)
        count = np.bincount(flat, minlength=int(np.prod(shape)))
        if (count == 0).any():
            miss = np.argwhere(count.reshape(shape) == 0)
            ex = ", ".join(
                "(" + ", ".join(_fmt_dose(doses[j][m[j]], units[j]) for j in range(len(idx))) + ")"
                for m in miss[:3]
            )
            raise InvalidInputError(
                f"{func}(): {where}: the dose grid is incomplete, {len(miss)} of {count.size} "
                f"wells are missing, e.g. {ex} for ({', '.join(drugs)}); the scores need every "
                "combination of the tested doses"
            )
        # replicate mean as R's mean() computes it (long double sum / n, then one correction
        # pass), so that a mean surface is bit-identical to SynergyFinder's averaged input
        yl = y.astype(np.longdouble)
        sums = np.zeros(count.size, dtype=np.longdouble)
        np.add.at(sums, flat, yl)
        m0 = sums / count
        corr = np.zeros(count.size, dtype=np.longdouble)
        np.add.at(corr, flat, yl - m0[flat])
        mean = (m0 + corr / count).astype(float).reshape(shape)
        order = np.argsort(flat, kind="stable")
        splits = np.cumsum(count)[:-1]
        values = np.split(y[order], splits)
        first = np.full(count.size, len(flat), dtype=np.int64)
        np.minimum.at(first, flat, np.arange(len(flat)))
        extra = _constant_columns(extra_vals[blk["_pos"].to_numpy()], extras) if extras else {}
        block = Block(_native(bid), drugs, units, doses, mean, values, extra)
        block.file_order = first.reshape(shape)  # row of each well's first replicate
        yield block


def _constant_columns(vals, extras):
    """{column: value} for the `extras` columns (of the 2-D object array `vals`, rows x
    columns) whose value is the same in every row (missing values count as one value). One
    vectorized pass: linear in the number of cells, so plates with very many extra columns
    stay fast."""
    if not extras:
        return {}
    first = vals[0]
    missing = pd.isna(vals)
    same = (vals == first) | (missing & missing[0])
    const = same.all(axis=0)
    return {
        c: (v.item() if isinstance(v, np.generic) else v)
        for c, v, k in zip(extras, first, const, strict=True)
        if k
    }


def _native(v):
    """block_id as a plain int when it is an integer (as SynergyFinder's examples), else as is."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, str):
        s = v.strip()
        if re.fullmatch(r"[-+]?\d+", s):
            return int(s)
        return s
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v
