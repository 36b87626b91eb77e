"""Chaos through the command line: seeded faults on a fresh fake per run, the CLI run in the test's process
(tests/inprocess.py), and as a process of its own where it is killed part way.

Every invocation ends in exactly one of two ways: exit 0 with the right bytes (the file's sha256 is the server's),
or a non-zero exit with one line on stderr and no file (nor temporary) left behind. A POST is never stored twice
by the tool itself: it does not retry, and with --idempotency-key the server can tell.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import subprocess
import sys

import pytest

from inprocess import espat
from simtools import ExactServer

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

ESPAT = [sys.executable, "-m", "espat.cli"]
BODY = bytes(random.Random(9).getrandbits(8) for _ in range(20000))
DIGEST = "sha-256=:" + base64.b64encode(hashlib.sha256(BODY).digest()).decode() + ":"

# What each step may end in (README's exit table): 0 success, 1 the module or server said no, 3 no answer in time,
# 4 a POST that may have been delivered, 5 data damaged; a killed download 0, 130 (SIGINT), 143 (SIGTERM), -9.
LOSSY = {"join": {0, 3, 5}, "get": {0, 3, 5}, "post": {0, 3, 4, 5}}    # bytes lost or changed, module to host
NOT_JOINED = {"join": {0}, "get": {1}, "post": {1}}                  # the first send loses Wi-Fi or resets the module
SECOND_SEND = {"join": {0}, "get": {0}, "post": {4}}                 # the POST's send fails after its bytes left
KILLED = {"join": {0}, "kill": {0, 130, 143, -9}, "post": {0}}

# (fault specs for the fake, whether the download is killed part way, which outcome proves the fault fired, the
# exits each step allows); each run's seed is its index, so every run repeats exactly
SCENARIOS = [
    (["drop:0.0003"], False, "get failed", LOSSY), (["corrupt:0.0003"], False, "get failed", LOSSY),
    (["drop:0.001"], False, "get failed", LOSSY), (["corrupt:0.001"], False, "get failed", LOSSY),
    (["wifi-lost@send=1"], False, "get failed", NOT_JOINED), (["wifi-lost@send=2"], False, "post failed", SECOND_SEND),
    (["reset@send=1"], False, "get failed", NOT_JOINED), (["reset@send=2"], False, "post failed", SECOND_SEND),
    # busy past every retry: the join gives up in time, and the commands after it find no Wi-Fi
    (["busy:14@cmd=4"], False, "no answer", {"join": {3}, "get": {1}, "post": {1}}),
    # the 9th command line answers 6 s late, past the 3 s bound: whichever step sends it ends in 3
    (["slow:6@cmd=9"], False, "no answer", {"join": {0, 3}, "get": {0, 3}, "post": {0, 3}}),
    (["remote-close@send=1"], False, "get failed", {"join": {0}, "get": {1}, "post": {0}}),
    (["send-fail@send=2"], False, "post failed", SECOND_SEND),
    ([], True, "killed", KILLED), (["drop:0.0002"], True, "killed", KILLED),
]


def _site(request: bytes) -> bytes:
    if request.startswith(b"POST"):
        return b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    return (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nRepr-Digest: %s\r\nConnection: close\r\n\r\n"
            % (len(BODY), DIGEST.encode()) + BODY)


def _one_line_or_success(done, what: str, allowed: set) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip() and not line.startswith("HTTP ")]
    assert done.returncode in allowed, f"{what}: exit {done.returncode}, allowed {sorted(allowed)}: {done.stderr}"
    if done.returncode == 0:
        return
    assert len(lines) == 1 and "Traceback" not in done.stderr, f"{what}: {done.stderr}"


@pytest.mark.parametrize("seed", range(len(SCENARIOS)))
def test_chaos_run(tmp_path, seed):
    from esp8266sim import SimConfig, Simulator
    faults, kill, evidence, exits = SCENARIOS[seed]
    outcomes = set()
    site = ExactServer(_site)
    out = tmp_path / "body.bin"
    wifi = {"ESPAT_WIFI_PASS": "s3cr3t99"}     # the password, for the in-process runs and the killed process alike
    try:
        config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", site.port)},
                           latency_scale=0, baud=115200 if kill else None, faults=faults, seed=seed)
        with Simulator(config) as sim:
            url = sim.serve_tcp()

            def run(*args):
                # slow answers 6 s late and busy lasts past any retrying: a short bound makes either end
                bound = "3" if any(f.startswith(("slow", "busy")) for f in faults) else "10"
                done = espat("-p", url, "--timeout", bound, *args, timeout=120, env=wifi)
                if done.returncode == 3:
                    outcomes.add("no answer")
                return done
            join = run("wifi", "join", "HomeNet")
            _one_line_or_success(join, f"join {faults}", exits["join"])
            if kill:
                proc = subprocess.Popen([*ESPAT, "-p", url, "http", "get", "http://example.com/", "-o", str(out)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                        env=dict(os.environ, **wifi))
                rng = random.Random(seed)
                try:
                    proc.wait(timeout=rng.uniform(0.5, 1.5))
                except subprocess.TimeoutExpired:
                    proc.send_signal(rng.choice([signal.SIGINT, signal.SIGTERM, signal.SIGKILL]))
                proc.communicate(timeout=30)
                assert proc.returncode in exits["kill"], f"killed get {faults}: exit {proc.returncode}"
                if proc.returncode != 0:
                    outcomes.add("killed")
                if proc.returncode == 0:
                    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(BODY).hexdigest()
                else:
                    assert not out.exists()
            else:
                got = run("--json", "http", "get", "http://example.com/", "-o", str(out))
                _one_line_or_success(got, f"get {faults}", exits["get"])
                if got.returncode == 0:
                    assert json.loads(got.stdout)["sha256"] == hashlib.sha256(BODY).hexdigest()
                    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(BODY).digest(), faults
                else:
                    outcomes.add("get failed")
                    assert not out.exists(), f"{faults}: a failed download left {out}"
            key = f"chaos-{seed}"
            before = len(site.requests)
            posted = run("http", "post", "http://example.com/r", "--json-body", '{"seed": %d}' % seed,
                         "--idempotency-key", key)
            _one_line_or_success(posted, f"post {faults}", exits["post"])
            stored = [r for r in site.requests[before:] if f"Idempotency-Key: {key}\r\n".encode() in r]
            assert len(stored) <= 1, f"{faults}: one POST stored {len(stored)} times"
            if posted.returncode == 0:
                assert len(stored) == 1
            else:
                outcomes.add("post failed")
        assert [p.name for p in tmp_path.iterdir() if p.name != "body.bin"] == []      # no temporaries
        assert evidence in outcomes, f"{faults}: the fault left no trace ({sorted(outcomes)})"
    finally:
        site.close()
