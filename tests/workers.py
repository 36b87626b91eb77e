"""What tests share with the other pytest-xdist workers of the same run, safely: names that differ per worker, a
folder they all see, and artefacts (a firmware build) made once for all of them."""
from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def worker_id() -> str:
    """`gw0`, `gw1`, ... under pytest-xdist; `main` without it. For names that must differ between workers."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def shared_root(tmp_path_factory) -> Path:
    """A folder every worker of this run shares (each worker's own temp folder is a child of it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if "PYTEST_XDIST_WORKER" in os.environ else base


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def shared_artifact(tmp_path_factory, name: str, make: Callable[[Path], object]) -> Path:
    """`make(folder)` once for this whole run, whichever worker asks first; the others wait for it and get the same
    folder. A make that failed is tried again by the next worker that asks (and fails there the same way)."""
    root = shared_root(tmp_path_factory)
    folder = root / f"shared-{name}"
    done = root / f"shared-{name}.done"
    with _locked(root / f"shared-{name}.lock"):
        if not done.exists():
            folder.mkdir(exist_ok=True)
            make(folder)
            done.touch()
    return folder


@contextmanager
def shared_workdir(tmp_path_factory, name: str) -> Iterator[Path]:
    """A folder every worker of this run shares, held by one of them at a time: a build folder whose compiled objects
    the next build with the same flags reuses, whichever worker makes it."""
    root = shared_root(tmp_path_factory)
    folder = root / f"workdir-{name}"
    with _locked(root / f"workdir-{name}.lock"):
        folder.mkdir(exist_ok=True)
        yield folder
