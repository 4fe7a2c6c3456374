"""One atomic writer for every file TorchCanvas saves, and one bounded reader."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20


class FileRefused(ValueError):
    """A path that is not a regular file, or one larger than the reader accepts."""


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half.

    A symlink is written through: its target is replaced and the link stays a link.
    """
    target = Path(os.path.realpath(path)) if Path(path).is_symlink() else Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; give it the mode a plain write would have.
        os.chmod(temp, _existing_mode(target) or 0o666 & ~_umask())
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _existing_mode(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """Open a regular file for reading; FileRefused for a FIFO, a device or a folder.

    The open does not block (a FIFO with no writer would wait forever) and the check is
    made on what was opened, so a link to /dev/zero is refused too.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileRefused(f"{Path(path).name}: not a regular file ({_kind(mode)})")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_limited(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file, refused once more than `limit` have actually been read."""
    with open_regular(path) as handle:
        message = f"{Path(path).name}: larger than {_size(limit)}; not a TorchCanvas {what}"
        size = os.fstat(handle.fileno()).st_size
        if size > limit:  # refused before a byte is read (a sparse file reads as fast as RAM)
            raise FileRefused(message.replace("larger than", f"{_size(size)}, larger than"))
        return read_handle(handle, limit, message)


def read_handle(handle: BinaryIO, limit: int, message: str) -> bytes:
    """Read to the end, counting the bytes read (stat lies for /proc and special files)."""
    chunks, total = [], 0
    while chunk := handle.read(min(_CHUNK, limit + 1 - total) or 1):
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            raise FileRefused(message)
    return b"".join(chunks)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "a special file"


def _size(limit: int) -> str:
    return f"{limit // 2**20} MB" if limit >= 2**20 else f"{limit} bytes"
