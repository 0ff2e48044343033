"""utils.atomic_output / atomic_write / output_target (issue 13.12 and 13.14): only a regular
file (or a symbolic link to one: the link is kept, its target replaced with its mode) is ever
replaced; operating-system errors become an OutputError naming the path, and nothing is left
behind. The tests run as root, so permission errors are simulated with the real errno."""

import errno
import os
import socket
import stat
import tempfile

import pytest

from mmmech import exceptions, utils
from mmmech.exceptions import InvalidInputError, MmmechError
from mmmech.utils import atomic_output, atomic_write


def _listing(folder):
    return sorted(os.listdir(folder))


def _special(kind, path):
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()
    else:
        os.mkdir(path)
    return os.lstat(path).st_mode


@pytest.mark.parametrize(
    "kind, words", [("fifo", "named pipe"), ("socket", "socket"), ("folder", "folder")]
)
@pytest.mark.parametrize("via_link", [False, True], ids=["direct", "symlink"])
def test_only_a_regular_file_is_replaced(tmp_path, kind, words, via_link):
    thing = tmp_path / "thing"
    mode = _special(kind, thing)
    out = thing
    if via_link:
        out = tmp_path / "out.txt"
        out.symlink_to("thing")
    before = _listing(tmp_path)
    with pytest.raises(InvalidInputError, match=words) as info:
        atomic_write(out, b"data")
    assert "not a regular file" in str(info.value) and os.fspath(out) in str(info.value)
    assert os.lstat(thing).st_mode == mode  # left exactly as it was
    assert via_link is os.path.islink(out)
    assert _listing(tmp_path) == before  # no temporary file


def test_a_symlink_is_followed_the_link_kept_and_the_target_keeps_its_mode(tmp_path):
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "data.txt"
    real.write_bytes(b"old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(os.path.join("store", "data.txt"))
    atomic_write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("store", "data.txt")
    assert real.read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640
    assert _listing(tmp_path / "store") == ["data.txt"]  # the temporary file was beside it


def test_a_replaced_regular_file_keeps_its_mode(tmp_path):
    out = tmp_path / "x.txt"
    out.write_bytes(b"old")
    os.chmod(out, 0o600)
    atomic_write(out, b"new")
    assert out.read_bytes() == b"new" and stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.txt"
    link.symlink_to("made.txt")
    atomic_write(link, b"new")
    assert link.is_symlink() and (tmp_path / "made.txt").read_bytes() == b"new"


def test_a_parent_that_is_a_regular_file(tmp_path):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(InvalidInputError, match="is not a folder"):
        atomic_write(tmp_path / "afile" / "x.txt", b"data")
    assert (tmp_path / "afile").read_text() == "x"


def _assert_output_error(info, path, code):
    err = info.value
    assert isinstance(err, exceptions.OutputError) and isinstance(err, OSError)
    assert os.fspath(path) in str(err) and os.strerror(code) in str(err)
    assert "\n" not in str(err)


def test_read_only_folder(tmp_path, monkeypatch):
    def denied(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), dir)

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    out = tmp_path / "x.txt"
    with pytest.raises(MmmechError) as info:
        atomic_write(out, b"data")
    _assert_output_error(info, out, errno.EACCES)
    assert _listing(tmp_path) == []


def test_disk_full_while_writing_leaves_nothing_behind(tmp_path):
    out = tmp_path / "x.txt"
    out.write_bytes(b"previous")
    with pytest.raises(MmmechError) as info:
        with atomic_output(out) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as a full device does
    _assert_output_error(info, out, errno.ENOSPC)
    assert _listing(tmp_path) == ["x.txt"] and out.read_bytes() == b"previous"


def test_disk_full_in_atomic_write(tmp_path, monkeypatch):
    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(
        utils, "open", lambda f, m="r", *a, **k: Full(open(f, m, *a, **k)), raising=False
    )
    out = tmp_path / "x.txt"
    with pytest.raises(MmmechError) as info:
        atomic_write(out, b"data")
    _assert_output_error(info, out, errno.ENOSPC)
    assert _listing(tmp_path) == []


def test_a_failing_rename_leaves_nothing_behind(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), src, dst)

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "x.txt"
    with pytest.raises(MmmechError) as info:
        atomic_write(out, b"data")
    _assert_output_error(info, out, errno.EROFS)
    assert _listing(tmp_path) == []


def test_a_symlink_loop_is_an_output_error_and_stays(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(MmmechError) as info:
        atomic_write(tmp_path / "a", b"data")
    _assert_output_error(info, tmp_path / "a", errno.ELOOP)
    assert os.readlink(tmp_path / "a") == "b" and _listing(tmp_path) == ["a", "b"]
