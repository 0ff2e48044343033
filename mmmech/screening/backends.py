"""Where a screen's chunks run: in-process, on a local Dask cluster or on an existing one.

A scheduler address is checked before use (scheme, host, port 1-65535), and reaching it
(connection, Dask's handshake, the client's start) is bounded by :data:`SCHEDULER_TIMEOUT`
seconds; whatever is not a Dask scheduler (a silent port, an HTTP server) is a
:class:`~mmmech.exceptions.NetworkUnavailableError` instead of a hang.

:func:`_journaled_run` is the one journaled execution of a screen and of a virtual trial:
client, journal start and refresh, progress bar, interrupt message and clean-up.

The chunk runner is looked up as ``tasks._run_chunk`` when a run starts (not bound at import),
so the one function workers and the in-process backend call can be wrapped in one place.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..exceptions import InvalidInputError, NetworkUnavailableError
from . import tasks
from .journal import _Journal
from .progress import _Progress
from .tasks import Task, _Spec

if TYPE_CHECKING:  # pragma: no cover - names for the type checker only
    from dask.distributed import Client, LocalCluster

__all__ = ["SCHEDULER_TIMEOUT"]

#: seconds allowed for reaching a Dask scheduler: connection, protocol handshake and client
#: start, each bounded (an address that is not a Dask scheduler fails within this time)
SCHEDULER_TIMEOUT = 30.0
_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")

#: a chunk of tasks (scored together, delivered together)
Chunk = list[Task]
#: receives what a chunk delivers: ``{"rows": [...], "timings": {...}}``
Deliver = Callable[[dict[str, Any]], None]
_T = TypeVar("_T")


def _chunks(items: Sequence[Task], size: int) -> list[Chunk]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _run_local(
    spec: _Spec, chunks: Sequence[Chunk], deliver: Deliver, run: Callable[..., Any] | None = None
) -> None:
    """Run every chunk here with ``run(spec, chunk)`` (default ``tasks._run_chunk``; a virtual
    trial passes its own) and deliver each result."""
    fn = tasks._run_chunk if run is None else run
    for ch in chunks:
        deliver(fn(spec, ch))


def _check_scheduler(scheduler: Any, func: str) -> str:
    """A Dask scheduler address: ``[tcp|tls|ws|wss|ucx]://host:port`` (port 1-65535), bare
    ``host:port`` (tcp), or an in-process ``inproc://`` address; returned as given (stripped)."""

    def bad(why: str) -> InvalidInputError:
        return InvalidInputError(
            f"{func}(): scheduler must be a Dask scheduler address such as "
            f"tcp://host:8786 ({why}), got {scheduler!r}"
        )

    if not isinstance(scheduler, str) or not scheduler.strip():
        raise bad("text")
    addr = scheduler.strip()
    scheme, sep, rest = addr.partition("://")
    if not sep:
        scheme, rest = "tcp", addr
    scheme = scheme.lower()
    if scheme not in _SCHEMES:
        raise bad(f"scheme one of {', '.join(s + '://' for s in _SCHEMES)}")
    if scheme == "inproc":
        if not rest:
            raise bad("an inproc:// address names its process")
        return addr
    if any(c.isspace() for c in rest) or "/" in rest or "@" in rest or "?" in rest:
        raise bad("host:port only")
    port: str | None
    if rest.startswith("["):  # IPv6: [::1]:8786
        host, _, port = rest[1:].partition("]")
        port = port[1:] if port.startswith(":") else None
    elif ":" in rest:
        host, _, port = rest.rpartition(":")
    else:
        host, port = rest, None
    if not host:
        raise bad("a host")
    if not port or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise bad("a port number in 1-65535")
    return addr


def _bounded(fn: Callable[[], _T], timeout: float, what: str) -> _T:
    """Run `fn()` in a helper thread; its result, or an exception after `timeout` seconds (the
    thread is a daemon and is left to finish on its own)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: B902 - reported to the caller below
            box["error"] = exc

    th = threading.Thread(target=run, name=f"mmmech-{what}", daemon=True)
    th.start()
    th.join(timeout)
    if th.is_alive():
        raise TimeoutError(f"no answer within {timeout:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _probe_scheduler(address: str, timeout: float) -> None:
    """Connect and complete Dask's protocol handshake (both within `timeout`), then hang up."""
    # deferred: distributed takes about a second to import; only Dask runs need it
    from distributed.comm import connect
    from distributed.security import Security  # deferred, as above

    # the TLS settings a Client would use (dask's configuration), so tls:// probes like it
    args = Security().get_connection_args("client")

    async def handshake() -> None:
        comm = await asyncio.wait_for(connect(address, timeout=timeout, **args), timeout)
        await comm.close()

    _bounded(lambda: asyncio.run(handshake()), timeout + 2.0, "probe")


def _dask_client(
    workers: int, scheduler: str | None, func: str
) -> tuple[Client, LocalCluster | None]:
    """A client of the scheduler at `scheduler` (checked and reached within
    :data:`SCHEDULER_TIMEOUT`), else of a new local cluster of `workers` processes."""
    try:
        # deferred: dask.distributed takes about a second to import; only Dask runs need it
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - a declared dependency
        raise InvalidInputError(f"{func}(): --workers/--scheduler need dask.distributed") from None
    if scheduler is not None:
        address = _check_scheduler(scheduler, func)
        timeout = float(SCHEDULER_TIMEOUT)
        try:
            # a listener that is not a Dask scheduler (an HTTP server, a silent port) fails the
            # handshake here, within the timeout, instead of hanging the client or making it
            # read an HTTP reply as a frame length (a multi-EiB allocation)
            _probe_scheduler(address, timeout)
            return _bounded(lambda: Client(address, timeout=timeout), timeout + 5.0, "client"), None
        except (Exception, MemoryError) as exc:  # every failure: the scheduler is unreachable
            why = " ".join(str(exc).split()) or type(exc).__name__
            if isinstance(exc, MemoryError):
                why = "the reply is not Dask's protocol (is this an HTTP port?)"
            elif isinstance(exc, TimeoutError) or type(exc).__name__ == "TimeoutError":
                why = (
                    f"no answer as a Dask scheduler within {timeout:g} s (is the address "
                    f"right, and is it the scheduler's port, not the dashboard's?)"
                )
            raise NetworkUnavailableError(
                f"{func}(): cannot reach the Dask scheduler at {scheduler!r}: {why[:200]}"
            ) from None
    cluster = LocalCluster(
        n_workers=int(workers),
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _run_dask(
    spec: _Spec,
    chunks: Sequence[Chunk],
    deliver: Deliver,
    client: Client,
    run: Callable[..., Any] | None = None,
) -> None:
    """As :func:`_run_local`, each chunk a Dask future (delivered as they complete)."""
    # deferred: dask.distributed takes about a second to import; only Dask runs need it
    from dask.distributed import as_completed

    fn = tasks._run_chunk if run is None else run
    spec_f = client.scatter(spec, broadcast=True)
    futures = [client.submit(fn, spec_f, ch, pure=False) for ch in chunks]
    try:
        for fut in as_completed(futures):
            deliver(fut.result())
            fut.release()
    except BaseException:
        client.cancel(futures)
        raise


def _journaled_run(
    spec: Any,
    keys: Sequence[str],
    chunks_for: Callable[[Mapping[str, Any]], list[Any]],
    on_result: Callable[[dict[str, Any]], None],
    *,
    done: dict[str, Any],
    journal: _Journal | None,
    workers: int,
    scheduler: str | None,
    client: Client | None,
    func: str,
    progress: bool,
    label: str = "screen",
    unit: str = "rows",
    kept: str = "rows",
    work: Mapping[str, float] | None = None,
    run: Callable[..., Any] | None = None,
) -> int:
    """Run the unfinished work of `keys` journaled; the number of keys finished before.

    `done` (key -> row, read from the journal by the caller) gets every delivered row.
    `chunks_for(done)` cuts what is not done into chunks; when there are none, nothing starts
    (no client, no journal written). Otherwise the client starts (a local cluster of `workers`
    processes, the scheduler at `scheduler`, else `client` or in-process), then the journal
    (rows another run finished meanwhile are taken, not computed again), then the progress
    bar; every result ``{"rows": [...], "timings": {...}}`` of ``run(spec, chunk)`` (default
    ``tasks._run_chunk``) is journaled, added to `done`, passed to `on_result` and counted on
    the bar (weighted by `work` per key when given). On Ctrl-C with a journal the message says
    how many `kept` items are kept and how to resume; the bar, journal and an own client and
    cluster are closed whatever happens."""
    keyset = set(keys)
    bar: _Progress | None = None

    def deliver(result: dict[str, Any]) -> None:
        rows = result["rows"]
        if journal is not None:
            journal.append(rows)
        for r in rows:
            done[r["key"]] = r
        on_result(result)
        if bar is not None:
            w = None if work is None else sum(work.get(r["key"], 0.0) for r in rows)
            bar.update(len(rows), w)

    resumed = len(done)
    own_client: Client | None = None
    own_cluster: LocalCluster | None = None
    try:
        if chunks_for(done):
            if workers > 0 or scheduler is not None:
                own_client, own_cluster = _dask_client(workers, scheduler, func)
            if journal is not None:
                journal.start()  # the work can start: now the journal is written
                # rows another run finished since the first look are not computed again
                done.update({k: r for k, r in journal.rows.items() if k in keyset})
                resumed = len(done)
            chunks = chunks_for(done)
            bar = _Progress(
                len(keyset),
                len(done),
                enabled=progress,
                work_total=None if work is None else sum(work.values()),
                work_done=None if work is None else sum(work[k] for k in done),
                label=label,
                unit=unit,
            )
            c = own_client if own_client is not None else client
            if c is not None:
                _run_dask(spec, chunks, deliver, c, run=run)
            else:
                _run_local(spec, chunks, deliver, run=run)
    except KeyboardInterrupt:
        if journal is not None and bar is not None:
            bar.close()
            sys.stderr.write(
                f"{label}: interrupted; {len(done)} of {len(keyset)} {kept} are kept in "
                f"{journal.path}; run the same {label} again to resume\n"
            )
            bar.enabled = False
        raise
    finally:
        if bar is not None:
            bar.close()
        if journal is not None:
            journal.close()
        if own_client is not None:
            own_client.close()
        if own_cluster is not None:
            own_cluster.close()
    return resumed
