"""`espat` (and `python -m esp8266sim`) run inside the test's own process, as `python -m espat.cli` would run it: for
a test about what a command prints and its exit status, where the process itself is not what is checked.

A subprocess costs a Python start and espat's imports every time (about 0.25 s of CPU, most of a CLI test); here
they are paid once per worker. What a subprocess gives a command, it gets here too:

- file descriptors 0, 1 and 2 are its own (stdin /dev/null or the `input` given, stdout and stderr files read back
  afterwards), with fresh `sys.stdin/stdout/stderr` on them: a command that writes to `sys.stdout.fileno()` (the
  body of `http get -o -`) or asks `isatty()` sees what it would see behind pipes;
- the environment with `env`'s changes (a value of None removes the variable), put back afterwards;
- the signal handlers the command installs (SIGINT, SIGTERM) are put back afterwards;
- warnings under Python's default filters, shown on its stderr, not pytest's;
- an exception that escapes is a traceback on stderr and status 1, as Python prints it;
- the answer is a `subprocess.CompletedProcess` (text decoded as `text=True` does, line ends made `\\n`), and a
  command still running after `timeout` seconds raises `subprocess.TimeoutExpired`.

A command must not leave a thread running that the process would wait for at its exit: that would hang the
subprocess, so it fails the call here.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Union

__all__ = ["espat", "esp8266sim", "run"]

# what a fresh interpreter shows (Python's default warning filters, -W and PYTHONWARNINGS unset)
_IGNORED_BY_DEFAULT = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


class _TimedOut(BaseException):
    """Raised in the main thread when the bound passes (a BaseException: the CLI's own handlers let it through)."""


def espat(*args: str, **options) -> subprocess.CompletedProcess:
    """`espat ARGS...` (`python -m espat.cli`) in this process; options as `run`'s."""
    from espat.cli import main
    return run(lambda argv: main(argv, prog_name="espat"), ["espat", *args], **options)


def esp8266sim(*args: str, **options) -> subprocess.CompletedProcess:
    """`python -m esp8266sim ARGS...` in this process; options as `run`'s."""
    from esp8266sim.cli import main
    return run(main, ["esp8266sim", *args], **options)


def run(main: Callable[[List[str]], object], command: Sequence[str], env: Optional[Dict[str, Optional[str]]] = None,
        input: Union[str, bytes, None] = None, timeout: float = 60, text: bool = True) -> subprocess.CompletedProcess:
    """`main(command[1:])` in this process, its return value the exit status as `sys.exit(main())` makes it; see
    the module's docstring."""
    command = [str(word) for word in command]
    argv = command[1:]
    saved_env = dict(os.environ)
    for name, value in (env or {}).items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    threads_before = set(threading.enumerate())
    status = None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = _stdin(input)
        streams = sys.stdin, sys.stdout, sys.stderr
        for stream in streams[1:]:
            stream.flush()
        saved_fds = [os.dup(fd) for fd in (0, 1, 2)]
        try:
            os.dup2(stdin.fileno(), 0)
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
            status = _run(main, argv, timeout)
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            sys.stdin, sys.stdout, sys.stderr = streams
            for fd, saved in zip((0, 1, 2), saved_fds):
                os.dup2(saved, fd)
                os.close(saved)
            stdin.close()
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            os.environ.clear()
            os.environ.update(saved_env)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
    if status is None:
        raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
    left = [t for t in set(threading.enumerate()) - threads_before if not t.daemon and t.is_alive()]
    for thread in left:
        thread.join(timeout)
    still = [t.name for t in left if t.is_alive()]
    assert not still, f"{' '.join(command)} left threads running that its process would wait for: {still}"
    if text:
        stdout, stderr = _text(stdout), _text(stderr)
    return subprocess.CompletedProcess(command, status, stdout, stderr)


def _stdin(input: Union[str, bytes, None]):
    if input is None:
        return open(os.devnull, "rb")
    data = tempfile.TemporaryFile()
    data.write(input.encode("utf-8") if isinstance(input, str) else input)
    data.seek(0)
    return data


def _run(main, argv, timeout: float) -> Optional[int]:
    """The command's exit status; None when it was still running after `timeout` seconds."""
    def expire(signum, frame):
        raise _TimedOut
    alarm = threading.current_thread() is threading.main_thread()
    if alarm:
        signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            for category in _IGNORED_BY_DEFAULT:
                warnings.simplefilter("ignore", category)
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            try:
                return _exit_status(main(argv))
            except SystemExit as exc:
                return _exit_status(exc.code)
            except _TimedOut:
                raise
            except Exception:
                sys.stderr.write(traceback.format_exc())
                return 1
    except _TimedOut:
        return None
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)


def _exit_status(code) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")       # sys.exit("message"): printed, status 1
    return 1


def _text(data: bytes) -> str:
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict", newline=None).read()
