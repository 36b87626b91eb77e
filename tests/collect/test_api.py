"""POST /api/readings answers as the firmware's retry rules expect, on SQLite and on PostgreSQL alike, and the read
side (GET /api/readings as JSON and CSV, /api/gaps, /api/devices, /healthz, /readyz) shows exactly what is stored."""
import csv
import json
import io
import logging
import threading

import pytest

from espat.collect.app import Settings
from espat.collect.server import serve_in_thread
from espat.collect.store import Store

from collect_http import body, post, reading, request, stored


def refusals(caplog) -> list:
    return [r.getMessage() for r in caplog.records
            if r.name == "espat.collect" and r.getMessage().startswith("refused")]


def test_stored_then_repeat_stores_nothing_new(collector):
    first = post(collector.url, reading())
    assert first.status == 201, first
    again = post(collector.url, {**reading(dropped=3), "age_ms": 5000})   # same key and sampled fields: a repeat
    assert again.status == 200 and again.json()["repeat"] is True
    rows = stored(collector.url)
    assert len(rows) == 1 and rows[0]["readings"] == {"a0_c": 21.5, "chip_c": 30.1, "vcc_mv": 4980}
    assert rows[0]["id"] == first.json()["id"]


def test_the_key_is_device_incarnation_boot_seq(collector):
    variants = [reading(), reading(device="other"), reading(incarnation="ffffffff"), reading(boot=4), reading(seq=18)]
    assert [post(collector.url, v).status for v in variants] == [201] * 5
    assert [post(collector.url, v).status for v in variants] == [200] * 5
    assert len(stored(collector.url)) == 5


def test_the_same_reading_posted_at_once_many_times_is_stored_once(collector):
    statuses, lock = [], threading.Lock()

    def send():
        answer = post(collector.url, reading(seq=5))
        with lock:
            statuses.append(answer.status)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 19 + [201]
    assert len(stored(collector.url)) == 1


BAD = [
    (b'{"device":"greenhouse-uno-1",', 400, {}),
    (body(reading(device="x'); DROP TABLE readings;--")), 400, {}),
    (body(reading(values={"a0_c\"); DELETE FROM readings; --": 1.0})), 400, {}),
    (body({**reading(), "dropped": "0 OR 1=1"}), 400, {}),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1,"uptime_ms":1,"readings":{"a0_c":NaN},"dropped":0}',
     422, {}),
    (b'{"device":"d","incarnation":"1a2b3c4d","boot":1,"seq":1,"uptime_ms":1,"readings":{"a0_c":Infinity},'
     b'"dropped":0}', 422, {}),
    (body(reading(values={"chip_c": 5000})), 422, {}),
    (b"x" * 5000, 413, {}),
]


@pytest.mark.parametrize("raw, status, headers", BAD, ids=[f"{s}-{i}" for i, (_, s, _) in enumerate(BAD)])
def test_bad_input_gets_its_4xx_is_logged_once_and_touches_nothing(collector, caplog, raw, status, headers):
    assert post(collector.url, reading(seq=1)).status == 201
    before = stored(collector.url)
    caplog.set_level(logging.INFO, logger="espat.collect")
    answer = post(collector.url, raw, headers)
    assert answer.status == status, answer
    assert "error" in answer.json()
    assert len(refusals(caplog)) == 1, refusals(caplog)
    assert stored(collector.url) == before
    assert request(collector.url, "GET", "/healthz").status == 200


def test_a_huge_content_length_is_refused_before_the_body_is_read(collector):
    import socket
    host, port = collector.url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST /api/readings HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer


def test_a_huge_chunked_body_is_cut_off_at_the_limit(collector):
    import http.client
    host, port = collector.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    chunks = (b"x" * 4096 for _ in range(1000))
    conn.request("POST", "/api/readings", body=chunks, encode_chunked=True)
    assert conn.getresponse().status == 413
    conn.close()


@pytest.fixture
def tokened(db_url):
    """A collector whose database has a token for greenhouse-uno-1."""
    store = Store(db_url)
    store.migrate()
    store.set_token("greenhouse-uno-1", "s3cret-token")
    store.close()
    with serve_in_thread(Settings(db_url, rate=1000, burst=1000)) as running:
        yield running


def test_tokens(tokened, caplog):
    caplog.set_level(logging.INFO, logger="espat.collect")
    url = tokened.url
    assert post(url, reading()).status == 401
    assert post(url, reading(), {"Authorization": "Basic abc"}).status == 401
    assert post(url, reading(), {"Authorization": "Bearer wrong"}).status == 403
    # open until the first token: now that one exists, a device without one is refused too
    assert post(url, reading(device="newcomer"), {"Authorization": "Bearer s3cret-token"}).status == 403
    assert len(refusals(caplog)) == 4
    assert stored(url) == []
    assert post(url, reading(), {"Authorization": "Bearer s3cret-token"}).status == 201
    assert [r["device"] for r in stored(url)] == ["greenhouse-uno-1"]


def test_tokens_are_stored_hashed(db_url):
    store = Store(db_url)
    store.migrate()
    store.set_token("d1", "plain-token-value")
    digests = store.token_digests()
    store.close()
    assert "plain-token-value" not in repr(digests) and len(digests["d1"]) == 64


def test_a_device_over_its_rate_gets_429_with_retry_after(db_url):
    with serve_in_thread(Settings(db_url, rate=0.5, burst=3)) as running:
        answers = [post(running.url, reading(seq=n)) for n in range(1, 5)]
        assert [a.status for a in answers] == [201, 201, 201, 429]
        assert int(answers[3].headers["retry-after"]) >= 1
        assert post(running.url, reading(device="another")).status == 201   # per device
        assert len(stored(running.url)) == 4


def test_database_unavailable_is_503_and_the_reading_is_taken_later(db_url, collector):
    """Another process holds the write lock past the collector's wait: 503 with Retry-After, nothing stored;
    once the lock is gone the same reading is stored (201, not 200)."""
    import sqlite3
    if db_url.startswith("sqlite"):
        holder = sqlite3.connect(db_url[len("sqlite:///"):], isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    else:
        import psycopg
        from sqlalchemy.engine import make_url
        holder = psycopg.connect(make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False))
        holder.execute("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE")
    try:
        answer = post(collector.url, reading(seq=9))
        assert answer.status == 503, answer
        assert int(answer.headers["retry-after"]) > 0
    finally:
        holder.rollback() if not db_url.startswith("sqlite") else holder.execute("ROLLBACK")
        holder.close()
    assert post(collector.url, reading(seq=9)).status == 201
    assert len(stored(collector.url)) == 1


def test_query_by_device_and_time_as_json_and_csv(collector):
    for seq in (1, 2, 3):
        assert post(collector.url, reading(seq=seq)).status == 201
    assert post(collector.url, reading(device="b", seq=1, values={"x_pct": 50})).status == 201
    rows = stored(collector.url, "?device=greenhouse-uno-1")
    assert [r["seq"] for r in rows] == [1, 2, 3]
    cut = rows[1]["received_at"]
    assert all(r["received_at"] >= cut for r in stored(collector.url, f"?since={cut}"))
    assert stored(collector.url, "?until=2000-01-01T00:00:00Z") == []
    assert [r["seq"] for r in stored(collector.url, "?device=greenhouse-uno-1&tail=2")] == [2, 3]
    answer = request(collector.url, "GET", "/api/readings?format=csv")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(answer.data.decode())))
    assert [(t["device"], t["seq"]) for t in table] == [("greenhouse-uno-1", "1"), ("greenhouse-uno-1", "2"),
                                                         ("greenhouse-uno-1", "3"), ("b", "1")]
    assert table[0]["a0_c"] == "21.5" and table[3]["x_pct"] == "50" and table[3]["a0_c"] == ""
    # a cut answer says so, and where to go on from
    page = request(collector.url, "GET", "/api/readings?limit=2")
    assert [r["seq"] for r in page.json()["readings"]] == [1, 2]
    after = page.json()["more_after"]
    assert page.headers["x-more-after"] == str(after)
    rest = request(collector.url, "GET", f"/api/readings?limit=2&after={after}")
    assert [(r["device"], r["seq"]) for r in rest.json()["readings"]] == [("greenhouse-uno-1", 3), ("b", 1)]
    assert rest.json()["more_after"] is None and "x-more-after" not in rest.headers
    assert request(collector.url, "GET", "/api/readings?format=csv&limit=3").headers["x-more-after"] == str(after + 1)
    for bad in ("?since=yesterday", "?format=xml", "?limit=0", "?after=x"):
        assert request(collector.url, "GET", f"/api/readings{bad}").status == 400


def test_gaps_show_missing_seqs_per_boot_and_the_boards_dropped_count(collector):
    for boot, seq, dropped in [(1, 1, 0), (1, 2, 0), (1, 5, 1), (1, 9, 3), (2, 2, 0), (2, 3, 0)]:
        assert post(collector.url, reading(boot=boot, seq=seq, dropped=dropped)).status == 201
    gaps = request(collector.url, "GET", "/api/gaps?device=greenhouse-uno-1").json()["boots"]
    assert [(g["boot"], g["missing"], g["missing_count"], g["dropped"], g["stored"]) for g in gaps] == [
        (1, [[3, 4], [6, 8]], 5, 3, 4), (2, [[1, 1]], 1, 0, 2)]
    devices = request(collector.url, "GET", "/api/devices").json()["devices"]
    assert devices[0]["device"] == "greenhouse-uno-1" and devices[0]["missing_count"] == 6
    assert devices[0]["last"]["seq"] == 3


def test_health_and_readiness(collector):
    assert request(collector.url, "GET", "/healthz").json() == {"ok": True}
    ready = request(collector.url, "GET", "/readyz")
    assert ready.status == 200 and ready.json()["ok"] is True


def test_readiness_says_503_when_the_database_is_gone(tmp_path):
    path = tmp_path / "c.sqlite3"
    with serve_in_thread(Settings(f"sqlite:///{path}")) as running:
        assert request(running.url, "GET", "/readyz").status == 200
        for suffix in ("", "-wal", "-shm"):
            p = tmp_path / f"c.sqlite3{suffix}"
            if p.exists():
                p.unlink()
        (tmp_path / "c.sqlite3").mkdir()     # the file is now a directory: nothing can open it
        store = running.app.state.collector["store"]
        store.engine.dispose()
        assert request(running.url, "GET", "/readyz").status == 503


def test_the_event_stream_resumes_after_the_last_event_id(collector):
    """What the live page listens to: each stored reading as a server-sent event with its id; a browser that
    reconnects with Last-Event-ID gets exactly the ones after it, then new ones as they are stored."""
    import http.client
    for seq in (1, 2, 3):
        assert post(collector.url, reading(seq=seq)).status == 201
    first_id = stored(collector.url)[0]["id"]
    host, port = collector.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", "/api/events", headers={"Last-Event-ID": str(first_id)})
    response = conn.getresponse()
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    seen = []
    while len(seen) < 3:
        line = response.fp.readline().decode()
        if line.startswith("data: "):
            seen.append(json.loads(line[6:])["seq"])
            if len(seen) == 2:          # the backlog is out: one more, stored now
                assert post(collector.url, reading(seq=4)).status == 201
    conn.close()
    assert seen == [2, 3, 4]


def test_a_body_that_does_not_match_its_content_digest_is_refused(collector, caplog):
    """espat's host client sends RFC 9530 Content-Digest (the AT link has no checksum): a body changed on its way
    is refused, not stored; a matching one, or one with only digests of other algorithms, is taken."""
    import base64
    import hashlib
    caplog.set_level(logging.INFO, logger="espat.collect")
    good = body(reading(seq=1))
    damaged = good.replace(b"21.5", b"91.5")

    def digest(data, algorithm="sha-256", fn=hashlib.sha256):
        return f"{algorithm}=:{base64.b64encode(fn(data).digest()).decode()}:"

    answer = post(collector.url, damaged, {"Content-Digest": digest(good)})
    assert answer.status == 400 and "Content-Digest" in answer.json()["error"]
    assert post(collector.url, damaged, {"Content-Digest": digest(good, "sha-512", hashlib.sha512)}).status == 400
    assert post(collector.url, good, {"Content-Digest": "sha-256=:not base64!:"}).status == 400
    assert len(refusals(caplog)) == 3 and stored(collector.url) == []
    assert post(collector.url, good, {"Content-Digest": digest(good) + ", crc32c=:AAAAAA==:"}).status == 201
    assert post(collector.url, body(reading(seq=2)), {"Content-Digest": "md5=:AAAA:"}).status == 201
    assert [r["readings"]["a0_c"] for r in stored(collector.url)] == [21.5, 21.5]
