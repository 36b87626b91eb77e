"""`espat demo` posts through the fake ESP-01 into a real collector (temporary database) and prints what it stored:
the very body that went over the wire, keyed by its incarnation."""
import json
import re

import pytest

from inprocess import espat     # the command's output and status, run in this process (tests/inprocess.py)

pytestmark = pytest.mark.slow     # tests/README.md: the tiers


def test_demo_stores_its_reading_in_a_real_collector():
    done = espat("demo", timeout=180)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "=> HTTP 201 Created" in out and "`espat collect` on a temporary database" in out
    sent = re.search(r'-> POST /api/readings HTTP/1\.1\\r\\n.*?\\r\\n\\r\\n(\{.*\})$', out, re.M)
    assert sent, out
    posted = json.loads(sent.group(1))
    assert "the collector's database holds 1 reading(s):" in out
    row = json.loads(out.split("the collector's database holds 1 reading(s):", 1)[1].strip().splitlines()[0])
    assert {k: v for k, v in row.items() if k not in ("id", "received_at", "taken_at")} == posted
    assert re.fullmatch(r"[0-9a-f]{8}", posted["incarnation"])
