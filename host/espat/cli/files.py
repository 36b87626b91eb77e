"""Where `-o FILE` writes: a file that appears only whole, or a device, FIFO or stdout written once at the end.

A regular file (or a new one) is written beside the target and renamed over it on success: a failed, interrupted
or killed download leaves no partial file and never touches an existing one. Where the file system allows it
(Linux O_TMPFILE) the bytes go to a file with no name until the end, so even SIGKILL leaves nothing behind;
elsewhere a hidden `.NAME.XXXX.part` beside the target is removed on every exit Python sees. A symbolic link is
followed: its target is the file replaced, the link stays. What cannot be renamed over (a device like /dev/null,
a FIFO, a terminal, `-` for stdout) is written in place, and only once the whole body has arrived and is to be
kept, so a failed download writes nothing there either.
"""
from __future__ import annotations

import os
import stat
import sys
import tempfile
from typing import Union

from .session import Failure

__all__ = ["AtomicOutput", "DirectOutput", "open_output"]


def open_output(target: str) -> Union["AtomicOutput", "DirectOutput"]:
    """The output for `-o target`: renamed into place for a regular file, written in place for anything else."""
    if target == "-":
        return DirectOutput(target, None)
    real = os.path.realpath(target)     # a link's target is what gets written; the link itself stays
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return AtomicOutput(real, shown=target)
    except OSError as exc:
        raise Failure(f"cannot write {target}: {exc.strerror}", 2) from None
    if stat.S_ISDIR(mode):
        raise Failure(f"cannot write {target}: it is a directory", 2)
    if stat.S_ISREG(mode):
        return AtomicOutput(real, shown=target)
    return DirectOutput(target, real)


class DirectOutput:
    """A device, FIFO or stdout: the body is kept in memory and written there on commit (it cannot be renamed
    over, and what was written to it cannot be taken back)."""

    def __init__(self, shown: str, path) -> None:
        self.shown, self.path = shown, path
        self._body = bytearray()

    def write(self, data: bytes) -> None:
        self._body += data

    def commit(self) -> None:
        if self.path is None:
            sys.stdout.flush()
            _write_all(sys.stdout.fileno(), self._body)
            return
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NOCTTY)     # never created, never truncated, never renamed
        except OSError as exc:
            raise Failure(f"cannot write {self.shown}: {exc.strerror}", 2) from None
        try:
            _write_all(fd, self._body)
        finally:
            os.close(fd)

    def discard(self) -> None:
        self._body = bytearray()


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class AtomicOutput:
    """A regular file, written beside the target and renamed over it on commit."""

    def __init__(self, target: str, shown: str = "") -> None:
        self.target = os.path.abspath(target)
        self.shown = shown or target
        directory, name = os.path.split(self.target)
        if os.path.isdir(self.target):
            raise Failure(f"cannot write {self.shown}: it is a directory", 2)
        self._temp = None
        try:
            try:
                self._fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o666)
            except (AttributeError, OSError):
                self._fd, self._temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        except OSError as exc:
            raise Failure(f"cannot write {self.shown}: {exc.strerror}", 2) from None

    def write(self, data: bytes) -> None:
        _write_all(self._fd, data)

    def commit(self) -> None:
        """Give the bytes the target's name (replacing what was there, in one step)."""
        directory, name = os.path.split(self.target)
        os.fsync(self._fd)
        if self._temp is None:          # a nameless file: give it a temporary name first, then rename
            self._temp = os.path.join(directory, f".{name}.{os.getpid()}.part")
            try:
                os.link(f"/proc/self/fd/{self._fd}", self._temp, follow_symlinks=True)
            except OSError:             # some file systems (overlays) make the file but cannot name it
                self._temp = None
                self._copy_to_named(directory, name)
        else:
            _ordinary(self._fd)
        os.replace(self._temp, self.target)
        self._temp = None
        os.close(self._fd)
        self._fd = -1

    def _copy_to_named(self, directory: str, name: str) -> None:
        nameless = self._fd
        self._fd, self._temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        try:
            size = os.lseek(nameless, 0, os.SEEK_END)
            with open(nameless, "rb", closefd=False) as src:
                src.seek(0)
                while size > 0:
                    piece = src.read(min(size, 1 << 20))
                    if not piece:
                        break
                    self.write(piece)
                    size -= len(piece)
        finally:
            os.close(nameless)
        _ordinary(self._fd)

    def discard(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._temp is not None:
            try:
                os.unlink(self._temp)
            except FileNotFoundError:
                pass
            self._temp = None


def _ordinary(fd: int) -> None:
    """mkstemp makes a private file; a download gets the permissions any new file would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(fd, 0o666 & ~umask)
