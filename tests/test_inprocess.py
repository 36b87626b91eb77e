"""tests/inprocess.py stands for a real `espat` process: the same status, stdout and stderr for the same words, and
what a process would have shown (writes to fd 1, a traceback, a hang, a thread it would wait for) shows here too."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import inprocess
from simtools import sim_url

ESPAT = [sys.executable, "-m", "espat.cli"]


@pytest.mark.parametrize("args, stdin", [
    (["-p", sim_url(), "--json", "at", "AT+GMR"], None),
    (["-p", sim_url(), "-v", "at", "ATE1", 'AT+CWJAP_CUR="HomeNet","s3cr3t99"'], None),
    (["-p", sim_url(), "at", "AT+FOO"], None),
    (["--baud", "7", "at", "AT"], None),
    (["--json", "-p", sim_url(), "http", "get", "ftp://x/"], None),
    (["-p", sim_url(), "wifi", "join", "HomeNet", "--password-file", "-"], "s3cr3t99\n"),
    (["-p", sim_url(), "wifi", "join", "HomeNet"], None),         # no password and stdin no terminal
    (["http", "--help"], None),
], ids=["json", "trace", "refused", "usage", "json-usage", "stdin", "no-tty", "help"])
def test_the_same_words_give_what_a_process_gives(tmp_path, args, stdin):
    env = {"COLUMNS": "80", "XDG_CACHE_HOME": str(tmp_path), "ESPAT_WIFI_PASS": None, "ESPAT_PORT": None}
    real_env = {k: v for k, v in {**os.environ, **env}.items() if v is not None}
    real = subprocess.run([*ESPAT, *args], capture_output=True, text=True, timeout=60, env=real_env, input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None)
    here = inprocess.espat(*args, env=env, input=stdin)
    assert (here.returncode, here.stdout, _untimed(here.stderr)) == (real.returncode, real.stdout,
                                                                     _untimed(real.stderr))


def _untimed(trace: str) -> str:
    """A -v trace without its time stamps (`[    0.204] -> ATE1`), which differ from run to run."""
    return re.sub(r"^\[ *\d+\.\d+\] ", "[t] ", trace, flags=re.M)


def test_a_usage_error_of_the_fake_is_what_its_process_says():
    real = subprocess.run([sys.executable, "-m", "esp8266sim", "--baud", "12"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    here = inprocess.esp8266sim("--baud", "12")
    assert (here.returncode, here.stdout, here.stderr) == (real.returncode, real.stdout, real.stderr) != (0, "", "")


def test_file_descriptors_streams_and_line_ends_are_a_processs():
    def main(argv):
        assert not sys.stdin.isatty() and sys.stdin.read() == "typed\n"
        print("to stdout", argv)
        sys.stdout.flush()
        os.write(1, b"fd 1\r\n")
        os.write(2, b"fd 2\r")
        sys.stderr.write("to stderr\n")
        return 3
    done = inprocess.run(main, ["prog", "a", "b"], input="typed\n")
    assert done.returncode == 3
    assert done.stdout == "to stdout ['a', 'b']\nfd 1\n" and done.stderr == "fd 2\nto stderr\n"
    raw = inprocess.run(main, ["prog"], input="typed\n", text=False)
    assert raw.stdout == b"to stdout []\nfd 1\r\n"


def test_an_exception_is_a_traceback_and_status_1_and_sys_exit_a_status():
    def fails(argv):
        raise RuntimeError("boom")
    done = inprocess.run(fails, ["prog"])
    assert done.returncode == 1
    assert done.stderr.startswith("Traceback (most recent call last):") and "RuntimeError: boom" in done.stderr
    assert inprocess.run(lambda argv: sys.exit(4), ["prog"]).returncode == 4
    said = inprocess.run(lambda argv: sys.exit("no way"), ["prog"])
    assert (said.returncode, said.stderr) == (1, "no way\n")


def test_the_environment_and_signal_handlers_come_back():
    os.environ["INPROCESS_KEPT"] = "before"
    handler = signal.getsignal(signal.SIGTERM)
    seen = {}

    def main(argv):
        seen.update(kept=os.environ.get("INPROCESS_KEPT"), new=os.environ.get("INPROCESS_NEW"))
        os.environ["INPROCESS_LEFT"] = "by the command"
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        inprocess.run(main, ["prog"], env={"INPROCESS_KEPT": None, "INPROCESS_NEW": "given"})
        assert seen == {"kept": None, "new": "given"}
        assert os.environ["INPROCESS_KEPT"] == "before"
        assert "INPROCESS_NEW" not in os.environ and "INPROCESS_LEFT" not in os.environ
        assert signal.getsignal(signal.SIGTERM) is handler
    finally:
        os.environ.pop("INPROCESS_KEPT", None)


def test_a_command_that_does_not_end_is_a_timeout():
    def hangs(argv):
        while True:
            time.sleep(0.05)
    with pytest.raises(subprocess.TimeoutExpired):
        inprocess.run(hangs, ["prog"], timeout=0.3)


def test_a_thread_the_process_would_wait_for_fails_the_call():
    release = threading.Event()

    def leaves_a_thread(argv):
        threading.Thread(target=release.wait, name="left-behind").start()
    try:
        with pytest.raises(AssertionError, match="left-behind"):
            inprocess.run(leaves_a_thread, ["prog"], timeout=0.3)
    finally:
        release.set()
