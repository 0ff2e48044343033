"""The journal of a screen: finished rows kept beside the output, so work survives interruption.

``<out>.partial`` holds JSON lines: a header with the screen's fingerprint (see
:mod:`mmmech.screening.planning`), then one finished row per line with a sha256 checksum. A
journal of another screen is never mixed in; a row that fails its checksum or is malformed is
computed again with a :class:`JournalWarning`; the file is locked while a screen reads or
writes it.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

from ..exceptions import InvalidInputError, MmmechError
from .tasks import _FUNC, Row, _Spec

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locking
    fcntl = None  # type: ignore[assignment]

__all__ = ["JournalWarning", "JOURNAL_SUFFIX"]

#: suffix of the journal written beside the output while a screen runs
JOURNAL_SUFFIX = ".partial"
_JOURNAL_VERSION = 2  # 2: rows carry a sha256 checksum; content-hashed fingerprint
_CHECKSUM = "sha256"


class JournalWarning(UserWarning):
    """Rows of a screen journal that failed their checksum or were malformed (recomputed)."""


def _row_checksum(row: Mapping[str, Any]) -> str:
    """sha256 over a row's canonical JSON (every field but the checksum itself)."""
    body = {k: v for k, v in row.items() if k != _CHECKSUM}
    data = json.dumps(body, sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _row_problem(spec: _Spec, row: Mapping[str, Any]) -> str | None:
    """Why a journal row cannot be used for `spec` (None when it can): every field the table
    needs, with the right type, consistent with its key."""
    key = row.get("key")
    if not isinstance(key, str):
        return "no key"
    ctx, _, combo = key.partition("|")
    names = combo.split("+")
    checks = [
        (row.get("context") == ctx, "context"),
        (row.get("combination") == " + ".join(names), "combination"),
        (
            isinstance(row.get("size"), int)
            and not isinstance(row.get("size"), bool)
            and row.get("size") == len(names),
            "size",
        ),
        (isinstance(row.get("doses_nM"), str), "doses_nM"),
        (isinstance(row.get("notes"), str), "notes"),
        (isinstance(row.get("converged"), bool), "converged"),
        (
            isinstance(row.get("members"), int)
            and not isinstance(row.get("members"), bool)
            and row.get("members") == max(spec.ensemble, 1),
            "members",
        ),
    ]
    for j in range(spec.max_size):
        want = names[j] if j < len(names) else None
        checks.append((row.get(f"drug_{j + 1}", "missing") == want, f"drug_{j + 1}"))
    numeric = ["effect_combination", "effect_best_single"]
    for m in spec.metrics:
        numeric.append(m)
        if spec.ensemble > 1:
            numeric += [f"{m}_mean", f"{m}_low", f"{m}_high"]
    checks += [(_is_num(row.get(c)), c) for c in numeric]
    bad = [what for ok, what in checks if not ok]
    return f"bad or missing {', '.join(bad)}" if bad else None


class _Journal:
    """Finished rows appended as JSON lines beside the output, flushed and fsynced per chunk.

    Line 1 is a header with the screen's fingerprint; every further line is one finished row
    (with its ``key``) and a ``sha256`` checksum of the row's canonical JSON. A line cut short
    by a crash is dropped (the file is truncated to the last complete line) before new rows are
    appended. A complete row that fails its checksum (an edited value), is not JSON, or lacks
    a field the table needs (null or text where a number belongs) is not used: it is computed
    again, with a :class:`JournalWarning`. The file is locked (``flock``) while a screen reads
    or writes it, so two runs cannot interleave their rows.

    Nothing is written when the journal is opened: an existing journal is read (and checked to
    belong to this screen), and :meth:`start` creates, truncates (``restart``) or extends the
    file only once the work can start, so a screen that fails to start (an unreachable
    scheduler, an impossible request) leaves no journal behind.
    """

    def __init__(
        self,
        path: str,
        fingerprint: str,
        config: Mapping[str, Any],
        restart: bool = False,
        check_row: Callable[[Row], str | None] | None = None,
        func: str = _FUNC,
        what: str = "screen",
    ) -> None:
        # `func` and `what` name the caller in messages (a virtual trial reuses this journal)
        self.func, self.what = func, what
        self.path = path
        self.fingerprint = fingerprint
        self.config = config
        self.restart = bool(restart)
        self.check_row = check_row
        self.rows: dict[str, Row] = {}
        self.rejected: dict[str, str] = {}  # key -> why (checksum, malformed)
        self.fh: IO[bytes] | None = None
        if self.restart:
            return  # the old journal is discarded only when work starts
        try:
            fh = open(path, "rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise self._os_error(exc) from None
        try:
            self._lock(fh)
            self._read(self._read_all(fh))
        finally:
            fh.close()  # also releases the lock
        self._warn()

    @property
    def _differs(self) -> str:
        if self.what == "screen":
            return (
                "other drugs, contexts, sizes, doses, ensemble, seed, or edited model, "
                "context or drug files"
            )
        return "other inputs, or edited data files"

    def _os_error(self, exc: OSError) -> InvalidInputError:
        return InvalidInputError(
            f"{self.func}(): cannot use the journal {self.path!r}: "
            f"{exc.strerror or exc}; remove it or choose another output "
            f"file"
        )

    def _read_all(self, fh: IO[bytes]) -> bytes:
        try:
            fh.seek(0)
            return fh.read()
        except OSError as exc:  # e.g. a folder at the journal's path
            raise self._os_error(exc) from None

    def _lock(self, fh: IO[bytes]) -> None:
        if fcntl is None:  # pragma: no cover - not POSIX
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise InvalidInputError(
                f"{self.func}(): another {self.what} is writing {self.path!r} right "
                f"now; wait for it or choose another output file"
            ) from None

    def start(self) -> None:
        """Open the journal for appending (create it, or truncate it with `restart`) and make
        sure it starts with this screen's header; called once the work can start."""
        if self.fh is not None:
            return
        try:
            fh = open(self.path, "a+b")
        except OSError as exc:
            raise self._os_error(exc) from None
        self._lock(fh)
        self.fh = fh
        try:
            if self.restart:
                fh.truncate(0)
                self.restart = False
            # read again under the lock: another run may have written since the first look
            self.rows, self.rejected = {}, {}
            good = self._read(self._read_all(fh))
            fh.truncate(good)
            fh.seek(0, os.SEEK_END)
            if good == 0:
                header = {
                    "mmmech_screen_journal": _JOURNAL_VERSION,
                    "fingerprint": self.fingerprint,
                    "config": self.config,
                }
                self._write([header])
        except BaseException:
            self.close()
            raise

    def _read(self, data: bytes) -> int:
        """Parse the journal bytes into ``self.rows``; return the length of the intact part
        (complete lines; 0: start afresh)."""
        func = self.func
        if not data:
            return 0
        end = data.find(b"\n")
        try:
            if end < 0:
                raise ValueError("the header has no newline")
            head = json.loads(data[:end].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            if data.startswith(b'{"mmmech_screen_journal"') and end < 0:
                return 0  # the header itself was cut short: start afresh
            raise InvalidInputError(
                f"{func}(): {self.path!r} exists but is not a {self.what} "
                f"journal; remove it or choose another output file"
            ) from None
        if not isinstance(head, dict) or "mmmech_screen_journal" not in head:
            raise InvalidInputError(
                f"{func}(): {self.path!r} exists but is not a {self.what} "
                f"journal; remove it or choose another output file"
            )
        if head.get("mmmech_screen_journal") != _JOURNAL_VERSION:
            raise InvalidInputError(
                f"{func}(): the unfinished journal {self.path!r} has format version "
                f"{head.get('mmmech_screen_journal')!r} (this mmmech writes "
                f"{_JOURNAL_VERSION}); finish it with the mmmech that wrote it, or pass "
                f"restart=True (--restart) to discard it"
            )
        if head.get("fingerprint") != self.fingerprint:
            raise InvalidInputError(
                f"{func}(): the unfinished journal {self.path!r} belongs to a different "
                f"{self.what} ({self._differs}); run that {self.what} again to finish it, "
                f"or pass restart=True (--restart) to discard it"
            )
        good = end + 1
        last = data.rfind(b"\n") + 1  # anything after the last newline is a torn line
        for line in data[good:last].split(b"\n")[:-1]:
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self.rejected[f"(line {len(self.rejected) + 1})"] = "not JSON"
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("key"), str):
                self.rejected[f"(line {len(self.rejected) + 1})"] = "not a row"
                continue
            key = obj["key"]
            if key in self.rows:
                continue  # a duplicate of a good row
            if obj.get(_CHECKSUM) != _row_checksum(obj):
                self.rejected.setdefault(key, "checksum mismatch")
                continue
            row = {k: v for k, v in obj.items() if k != _CHECKSUM}
            why = self.check_row(row) if self.check_row is not None else None
            if why:
                self.rejected.setdefault(key, why)
                continue
            self.rows[key] = row
            self.rejected.pop(key, None)  # a later good copy supersedes a bad one
        return last

    def _warn(self) -> None:
        bad = {k: v for k, v in self.rejected.items() if k not in self.rows}
        if bad:
            first = next(iter(bad.items()))
            warnings.warn(
                f"{self.func}(): {len(bad)} row(s) of the journal {self.path!r} failed their "
                f"integrity check and will be computed again (first: {first[0]}: "
                f"{first[1]})",
                JournalWarning,
                stacklevel=3,
            )

    def _write(self, objs: Iterable[Mapping[str, Any]]) -> None:
        assert self.fh is not None, "start() opens the journal"
        buf = "".join(json.dumps(o, allow_nan=True) + "\n" for o in objs).encode("utf-8")
        try:
            self.fh.write(buf)
            self.fh.flush()
            os.fsync(self.fh.fileno())
        except OSError as exc:  # e.g. a full disk: the rows already journaled are kept
            raise MmmechError(
                f"{self.func}(): cannot append to the journal {self.path!r}: "
                f"{exc.strerror or exc}; the rows finished so far are kept there "
                f"(a cut line is dropped on resume): fix the cause and run the "
                f"same {self.what} again"
            ) from None

    def append(self, rows: Sequence[Row]) -> None:
        """Append finished rows durably (flush + fsync) before they count as done."""
        self.start()
        self._write([dict(r, **{_CHECKSUM: _row_checksum(r)}) for r in rows])
        for r in rows:
            self.rows.setdefault(r["key"], r)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()  # closing releases the lock
            self.fh = None
