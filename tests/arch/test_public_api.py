"""The public API: what `espat` exports, typed, each error with its exit status, and README's example running
against the fake module; and a bare `pip install .` (no extras) that runs it without the tools' dependencies."""
from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import espat
from esp8266sim import SimConfig, Simulator
from simtools import ExactServer

ROOT = Path(__file__).resolve().parents[2]
BODY = b"hello from the fake's far end"


def readme_example() -> str:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## From Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_example(python: str, tmp_path: Path) -> subprocess.CompletedProcess:
    server = ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       latency_scale=0)
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    try:
        with Simulator(config) as sim:
            env = {**os.environ, "ESPAT_PORT": sim.serve_tcp(), "ESPAT_WIFI_PASS": "s3cr3t99"}
            env.pop("PYTHONPATH", None)
            return subprocess.run([python, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                                  timeout=120)
    finally:
        server.close()


def test_the_names_of_the_api():
    for name in ("EspAt", "request", "Response", "Parser", "Session", "EspAtError", "ModuleError", "JoinError",
                 "CommandTimeout", "DataDamaged", "DeliveryUnknown", "PortError", "PortBusy"):
        assert name in espat.__all__ and getattr(espat, name) is not None
    from espat import errors
    assert set(errors.__all__) <= set(espat.__all__)
    assert (ROOT / "host" / "espat" / "py.typed").is_file()


def library_modules():
    """Every module of the library (espat less its tools and the collector), by name."""
    from arch.test_import_direction import layer, modules
    return sorted(name for name in modules() if layer(name) == "library")


def test_every_public_parameter_is_typed():
    """Of what espat exports and what every library module lists in __all__: each parameter and return typed."""
    import importlib
    untyped = []
    for module in [espat] + [importlib.import_module(name) for name in library_modules()]:
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if getattr(obj, "__module__", None) != module.__name__ and module is not espat:
                continue            # re-exported: checked where it lives
            functions = [(name, obj)] if inspect.isfunction(obj) else \
                [(f"{name}.{m}", f) for m, f in vars(obj).items() if inspect.isfunction(f)
                 and (not m.startswith("_") or m == "__init__")] if inspect.isclass(obj) else []
            for where, function in functions:
                sig = inspect.signature(function)
                untyped += [f"{module.__name__}.{where}({p})" for p, param in sig.parameters.items()
                            if p not in ("self", "cls") and param.annotation is inspect.Parameter.empty]
                if sig.return_annotation is inspect.Signature.empty and where.rpartition(".")[2] != "__init__":
                    untyped.append(f"{module.__name__}.{where} -> ?")
    assert untyped == []


def test_each_error_carries_its_exit_status():
    statuses = {name: getattr(espat, name).exit_status for name in espat.__all__
                if inspect.isclass(getattr(espat, name)) and issubclass(getattr(espat, name), espat.EspAtError)}
    assert statuses == {
        "EspAtError": 1, "ModuleError": 1, "JoinError": 1, "LinkClosed": 1, "HttpError": 1,
        "LocalProtocolError": 2, "PortError": 2, "PortBusy": 2,
        "CommandTimeout": 3, "BusyError": 3,
        "DeliveryUnknown": 4,
        "DataDamaged": 5, "DataLost": 5, "IntegrityError": 5, "BodyTruncated": 5, "MalformedResponse": 5,
        "RemoteProtocolError": 5,
    }


def test_the_readme_example_runs_against_the_fake(tmp_path):
    done = run_example(sys.executable, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"200 OK {BODY!r}\n"


@pytest.mark.slow  # tests/README.md: the tiers (makes a venv and pip-installs into it)
def test_a_bare_install_is_the_library_alone(tmp_path):
    """`pip install .` with no extras: no click, no collector stack; the library still talks to a module."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for name in ("host", "simulator"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True,
                            check=True).stdout.lower()
    names = {line.partition("==")[0] for line in listed.split()}
    assert {"espat", "pyserial", "h11"} <= names
    assert not names & {"click", "starlette", "uvicorn", "sqlalchemy", "httptools", "platformdirs", "psycopg"}
    done = run_example(python, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"200 OK {BODY!r}\n"
    # the console script says which extra brings the command line, in one line
    cli = subprocess.run([str(tmp_path / "venv" / "bin" / "espat"), "wifi", "--help"], capture_output=True, text=True)
    assert cli.returncode == 1 and cli.stderr == \
        "Error: the espat command line needs click, which is not installed: pip install 'espat[cli]'\n"
