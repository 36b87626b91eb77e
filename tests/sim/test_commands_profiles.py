"""The fake's own answer data against the client's dialect table: same facts, kept twice on purpose, so a wrong
entry on either side fails here instead of being agreed with."""
from __future__ import annotations

import dataclasses
import pathlib
import re

import pytest

from espat.proto import dialects
from esp8266sim import profiles
from esp8266sim.commands.registry import REGISTRY, resolve

PAIRS = [(profiles.AT17, dialects.AT1), (profiles.AT2X, dialects.AT2)]


@pytest.mark.parametrize("mine, theirs", PAIRS, ids=["1.7", "2.x"])
def test_every_shared_field_agrees(mine, theirs):
    shared = {f.name for f in dataclasses.fields(theirs)} & {f.name for f in dataclasses.fields(mine)}
    assert shared >= {"send_prompt", "join_fail_final", "busy_sending", "send_fail", "quoted_dinfo_ip",
                      "recvdata_head", "recvlen_idle", "gmr", "cwjap_query_extra", "modes", "major", "name"}
    for name in sorted(shared):
        assert getattr(mine, name) == getattr(theirs, name), name


@pytest.mark.parametrize("mine, theirs", PAIRS, ids=["1.7", "2.x"])
def test_suffixed_names_agree_with_the_registry(mine, theirs):
    """The client's `_CUR`/`_DEF` list is exactly the commands whose bare name is a deprecated alias."""
    aliased = {name for name, cmd in REGISTRY.items() if cmd.naming(mine.major) == "alias"}
    assert aliased == set(theirs.suffixed)
    for name in theirs.suffixed:
        assert resolve(name + "_CUR", mine.major) is not None


@pytest.mark.parametrize("name", ["1", "1.7", "2", "2.x"])
def test_profile_names_match_the_client(name):
    assert profiles.profile(name).major == dialects.by_name(name).major


def test_unknown_dialect_is_one_clear_error():
    with pytest.raises(ValueError, match="choose 1"):
        profiles.profile("3")


def test_the_fake_imports_nothing_from_the_clients_tables():
    root = pathlib.Path(profiles.__file__).parent
    imports = re.compile(r"^\s*(from|import)\s+espat\.(dialects|commands)\b", re.M)
    for path in root.rglob("*.py"):
        assert not imports.search(path.read_text()), path
