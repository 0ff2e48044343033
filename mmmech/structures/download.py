"""Downloading PDB entries from RCSB into a user cache (needs the network)."""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from .._typing import PathLike
from ..exceptions import InvalidInputError, NetworkUnavailableError, StructureError
from ..utils import atomic_write
from . import _pdb

__all__ = ["RCSB_URL", "fetch"]

RCSB_URL = "https://files.rcsb.org/download/{pdb_id}.{ext}"


def _default_cache() -> Path:
    env = os.environ.get("MMMECH_CACHE")
    if env:
        return Path(env) / "pdb"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mmmech" / "pdb"


def fetch(
    pdb_id: str, cache_dir: PathLike | None = None, format: str = "cif", timeout: float = 30.0
) -> Path:
    """Download a PDB entry from RCSB into a user cache and return its path.

    Parameters
    ----------
    pdb_id : str
        Four-character PDB ID (``"5FQD"``), case-insensitive.
    cache_dir : path, optional
        Default ``$MMMECH_CACHE/pdb`` or ``~/.cache/mmmech/pdb``. A file already there is
        returned without touching the network.
    format : {"cif", "pdb"}
        mmCIF (default; every entry has one) or legacy PDB format.
    timeout : float
        Seconds.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    NetworkUnavailableError
        The server cannot be reached (offline, DNS, timeout).
    StructureError
        The entry does not exist (HTTP 404) or the download is not a structure file.
    """
    func = "fetch"
    if not isinstance(pdb_id, str) or not re.fullmatch(r"[0-9][A-Za-z0-9]{3}", pdb_id.strip()):
        raise InvalidInputError(
            f"{func}(): pdb_id must be a 4-character PDB ID such as '5FQD', got {pdb_id!r}"
        )
    if format not in ("cif", "pdb"):
        raise InvalidInputError(f"{func}(): format must be 'cif' or 'pdb', got {format!r}")
    pid = pdb_id.strip().upper()
    cache = Path(cache_dir) if cache_dir is not None else _default_cache()
    dest = cache / f"{pid}.{format}"
    if dest.is_file() and dest.stat().st_size > 0:
        return dest
    url = RCSB_URL.format(pdb_id=pid, ext=format)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise StructureError(
                f"{func}(): PDB entry {pid} not found at {url} (HTTP 404)"
                + (
                    " ; entries too large for the PDB format exist only as mmCIF: use format='cif'"
                    if format == "pdb"
                    else ""
                )
            ) from None
        raise NetworkUnavailableError(
            f"{func}(): downloading {pid} from {url} failed: HTTP {exc.code} {exc.reason}"
        ) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkUnavailableError(
            f"{func}(): cannot download {pid} from {url}: the network is unavailable ({reason}); "
            f"connect, or put the file at {dest} yourself"
        ) from None
    head = data[:2000].decode("utf-8", errors="replace")
    if _pdb._detect_format("", head) != format:
        raise StructureError(
            f"{func}(): the download of {pid} from {url} is not a "
            f"{'mmCIF' if format == 'cif' else 'PDB'} file"
        )
    try:
        cache.mkdir(parents=True, exist_ok=True)
        atomic_write(dest, data)
    except OSError as exc:
        raise StructureError(f"{func}(): cannot write to the cache {cache}: {exc}") from None
    return dest
