"""Reading a template: only regular files, and never more than the size limit.

A pull request can add a FIFO named `template.yaml` (opening it blocks), a
symlink to `/dev/zero` (reading it never ends), a socket or a device. Each
path is `stat`ed before it is opened, opened without blocking, checked again
on the open descriptor (the path may have been swapped in between), and read
at most `limit + 1` bytes: a file that grows, or whose size lies, is still
bounded, and one byte past the limit is enough to refuse it.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

_CHUNK = 1024 * 1024
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class NotRegularFile(OSError):
    """A path that is a FIFO, a device, a socket or a directory: never opened."""


def kind_of(mode: int) -> str | None:
    """What a non-regular file is (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def is_regular(path: str) -> bool:
    """Whether `path` (following symlinks) is a regular file; False when it cannot be stat'ed."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _refuse(path: str, mode: int) -> NotRegularFile:
    kind = kind_of(mode) or "not a regular file"
    return NotRegularFile(
        errno.EINVAL, f"{kind}, not a regular file; archlint opens only regular files", path
    )


def read_regular(path: str, limit: int) -> bytes:
    """At most `limit + 1` bytes of the regular file `path`; NotRegularFile (an OSError) else."""
    mode = os.stat(path).st_mode  # follows symlinks: a link to /dev/zero is a device
    if not stat.S_ISREG(mode):
        raise _refuse(path, mode)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped for something else after the stat
            raise _refuse(path, mode)
        return _read_fd(fd, limit + 1)
    finally:
        os.close(fd)


def _read_fd(fd: int, most: int) -> bytes:
    chunks: list[bytes] = []
    left = most
    while left > 0:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_stream(stream: BinaryIO, limit: int) -> bytes:
    """At most `limit + 1` bytes of a stream (standard input)."""
    return stream.read(limit + 1)
