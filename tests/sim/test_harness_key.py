"""The virtual Uno's compiled harness is cached under a key (simulator/unosim/harness.py): a key that misses a change
runs a stale harness against new sources, so each thing that changes the binary must change the key."""
from unosim.harness import harness_key


def sources(folder, **contents):
    """Files named by the keywords (a_c is a.c), holding their texts, in a folder of their own."""
    folder.mkdir()
    paths = []
    for name, text in contents.items():
        path = folder / name.replace("_", ".", 1)
        path.write_text(text)
        paths.append(path)
    return paths


def test_the_key_follows_names_contents_and_the_toolchain(tmp_path):
    base = harness_key(sources(tmp_path / "base", a_c="int a;", b_c="int b;"), b"gcc 12")
    # the same bytes split differently between two files (the old key read only the concatenated contents)
    moved = harness_key(sources(tmp_path / "moved", a_c="int a;int", b_c=" b;"), b"gcc 12")
    renamed = harness_key(sources(tmp_path / "renamed", a_c="int a;", c_c="int b;"), b"gcc 12")
    upgraded = harness_key(sources(tmp_path / "upgraded", a_c="int a;", b_c="int b;"), b"gcc 13")
    same = harness_key(sources(tmp_path / "same", a_c="int a;", b_c="int b;"), b"gcc 12")
    assert len({base, moved, renamed, upgraded}) == 4
    assert same == base
