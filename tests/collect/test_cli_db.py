"""`espat collect ... token` finds the database a user named, wherever on the line they named it, and never makes
one by mistake: the group's --db reaches the token commands, a missing file is an error for list and remove, a
missing directory is an error for every command; `espat --json collect token list` prints JSON. Each run gets its
own data directory, so the default database of whoever runs the tests is never touched."""
import json
import subprocess
from pathlib import Path

import pytest

from inprocess import espat     # the command's output and status, run in this process (tests/inprocess.py)


def run(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {"ESPAT_COLLECT_DB": None, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path / "home"),
                   **(env or {})}
    return espat(*args, env=environment)


def default_db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "espat" / "collect.sqlite3"


def devices_in(url: str) -> list:
    from espat_collect.store import Store
    store = Store(url)
    try:
        return sorted(store.token_digests())
    finally:
        store.close()


@pytest.mark.slow
def test_the_groups_db_reaches_token_add_list_and_remove(tmp_path):
    url = f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
    added = run(tmp_path, "collect", "--db", url, "token", "add", "greenhouse-uno-1")
    assert added.returncode == 0, added.stderr
    assert devices_in(url) == ["greenhouse-uno-1"]
    assert not default_db(tmp_path).exists()          # the default database was not made or written
    assert run(tmp_path, "collect", "--db", url, "token", "list").stdout.split() == ["greenhouse-uno-1"]
    # the same database named twice is fine; two different ones are a usage error, not a guess
    assert run(tmp_path, "collect", "--db", url, "token", "list", "--db", url).returncode == 0
    both = run(tmp_path, "collect", "--db", url, "token", "list", "--db", f"sqlite:///{tmp_path / 'other.db'}")
    assert both.returncode == 2 and "two databases" in both.stderr and "Traceback" not in both.stderr
    # the group's --db wins over the environment's, which the token command would otherwise take
    env_db = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    removed = run(tmp_path, "collect", "--db", url, "token", "remove", "greenhouse-uno-1",
                  env={"ESPAT_COLLECT_DB": env_db})
    assert removed.returncode == 0, removed.stderr
    assert devices_in(url) == [] and not (tmp_path / "env.sqlite3").exists()


@pytest.mark.parametrize("command", [["token", "list"], ["token", "remove", "greenhouse-uno-1"]])
def test_a_database_that_is_not_there_is_an_error_for_list_and_remove(tmp_path, command):
    missing = tmp_path / "typo.sqlite3"
    done = run(tmp_path, "collect", *command, "--db", f"sqlite:///{missing}")
    assert done.returncode == 1
    assert done.stderr.strip() == f"Error: no database at {missing}"
    assert not missing.exists()


@pytest.mark.parametrize("command", [["token", "add", "d1"], ["--listen", "127.0.0.1:0"]])
def test_a_missing_directory_is_a_one_line_error_not_made(tmp_path, command):
    where = tmp_path / "no" / "such" / "dir" / "c.sqlite3"
    before = ["--db", f"sqlite:///{where}"] if command[0] == "--listen" else []
    after = [] if before else ["--db", f"sqlite:///{where}"]
    done = run(tmp_path, "collect", *before, *command, *after)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == f"Error: no directory {where.parent} for the database c.sqlite3 (create it first)"
    assert not (tmp_path / "no").exists()


def test_a_path_where_a_url_belongs_is_a_one_line_error(tmp_path):
    done = run(tmp_path, "collect", "token", "list", "--db", str(tmp_path / "c.sqlite3"))
    assert done.returncode == 1 and "is not a database URL: sqlite:///FILE" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_json_before_collect_or_after_the_command_prints_json(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    added = run(tmp_path, "--json", "collect", "--db", url, "token", "add", "cellar-uno-2")
    assert added.returncode == 0, added.stderr
    token = json.loads(added.stdout)
    assert token["device"] == "cellar-uno-2" and len(token["token"]) == 32
    for words in (["--json", "collect", "token", "list", "--db", url], ["collect", "token", "list", "--json",
                                                                         "--db", url]):
        listed = run(tmp_path, *words)
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == {"devices": ["cellar-uno-2"]}
    error = run(tmp_path, "--json", "collect", "token", "list", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert error.returncode == 1 and json.loads(error.stderr)["error"].startswith("no database at ")


@pytest.mark.parametrize("host, tokens, warned", [
    ("0.0.0.0", 0, "can read every reading (the live page and /api/* need no token) and post readings until the "
                   "first token"),
    ("0.0.0.0", 2, "can read every reading (the live page and /api/* need no token)"),
    ("192.168.1.10", 1, "can read every reading"),
    ("::", 1, "can read every reading"),
    ("127.0.0.1", 0, None), ("127.0.0.2", 3, None), ("::1", 1, None), ("localhost", 0, None),
])
def test_listening_beyond_loopback_always_says_the_read_side_is_open(host, tokens, warned):
    """The warning used to appear only while no token existed, though the read side never asks for one. (The
    start-up lines are checked as text: a test never listens beyond loopback.)"""
    from espat_collect.cli import banner
    lines = banner(host, 8080, "sqlite:///c.sqlite3", tokens)
    notes = [line for line in lines if line.startswith(f"  note: on {host} anyone")]
    if warned is None:
        assert notes == []
    else:
        assert len(notes) == 1 and warned in notes[0]
        assert ("post readings" in notes[0]) is (tokens == 0)
