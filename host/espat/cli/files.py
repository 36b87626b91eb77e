"""An output file that appears only whole: written beside the target, renamed over it on success.

A failed, interrupted or killed download leaves no partial file and never touches an existing one. Where the
file system allows it (Linux O_TMPFILE) the bytes go to a file with no name until the end, so even SIGKILL leaves
nothing behind; elsewhere a hidden `.NAME.XXXX.part` beside the target is removed on every exit Python sees.
"""
from __future__ import annotations

import os
import tempfile

from .session import Failure

__all__ = ["AtomicOutput"]


class AtomicOutput:
    def __init__(self, target: str) -> None:
        self.target = os.path.abspath(target)
        directory, name = os.path.split(self.target)
        if os.path.isdir(self.target):
            raise Failure(f"cannot write {target}: it is a directory", 2)
        self._temp = None
        try:
            try:
                self._fd = os.open(directory, os.O_TMPFILE | os.O_RDWR, 0o666)
            except (AttributeError, OSError):
                self._fd, self._temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        except OSError as exc:
            raise Failure(f"cannot write {target}: {exc.strerror}", 2) from None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]

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
