"""Host-native g++ builds made once: each source compiled to an object file kept in a cache folder under a name made
from everything that goes into it (the compiler, its options, the source, and every C/C++ file of the folders it may
include from: its own folder and each -I folder), and the program linked from those objects, kept the same way.
So the library compiled for one test module is the object the next module with the same options links, and a run
after a run that changed none of those files compiles nothing; any change to a file that can reach the object
builds it again. A compile or link that fails fails the test with the compiler's message, as before.
"""
from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import threading
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "espat" / "native-cc"
# What a #include can reach in a folder: a change to any of these builds again what was compiled beside them.
C_FILES = {".h", ".hh", ".hpp", ".inc", ".ipp", ".tcc", ".c", ".cc", ".cpp"}

_lock = threading.Lock()


def gxx() -> str:
    found = shutil.which("g++")
    assert found, "g++ missing: apt-get install g++ (scripts/test.sh does)"
    return found


@functools.lru_cache(maxsize=None)
def _compiler(path: str) -> bytes:
    """The compiler's identity: its version and target (its own headers change with them)."""
    done = subprocess.run([path, "--version"], capture_output=True)
    return os.path.realpath(path).encode() + b"\0" + done.stdout


def _folder(folder: Path) -> bytes:
    digest = hashlib.sha256(str(folder).encode())
    for path in sorted(p for p in folder.rglob("*") if p.suffix in C_FILES and p.is_file()):
        digest.update(b"\0" + str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def _run(cmd: list, out: Path) -> Path:
    """Runs `cmd -o tmp` and moves tmp to `out` (whole, so that a parallel worker never sees half a file)."""
    tmp = out.with_name(f"{out.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    done = subprocess.run([*cmd, "-o", str(tmp)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    tmp.replace(out)
    return out


# The options that name a folder to include from, and those that name a file to include, each as `-Xdir` or
# `-X dir`: a file's folder is hashed whole, as an include folder is.
FOLDER_OPTIONS = ("-I", "-iquote", "-isystem", "-idirafter")
FILE_OPTIONS = ("-include", "-imacros")


def _include_folders(flags: list) -> list:
    folders = []
    for at, flag in enumerate(flags):
        for option in FOLDER_OPTIONS + FILE_OPTIONS:
            if flag == option and at + 1 < len(flags):
                named = flags[at + 1]
            elif flag.startswith(option) and len(flag) > len(option):  # (no option is the start of another)
                named = flag[len(option):]
            else:
                continue
            folders.append(Path(named).parent if option in FILE_OPTIONS else Path(named))
    return folders


def _object(cc: str, flags: list, source: Path) -> Path:
    folders = [source.parent] + _include_folders(flags)
    digest = hashlib.sha256(_compiler(cc) + "\0".join(flags).encode() + b"\0" + str(source).encode() + b"\0" +
                            source.read_bytes())
    for folder in folders:
        digest.update(_folder(folder))
    out = CACHE / "obj" / f"{source.stem}-{digest.hexdigest()[:20]}.o"
    return out if out.exists() else _run([cc, *flags, "-c", str(source)], out)


def objects(flags: list, sources: list) -> list:
    """The object file `g++ FLAGS -c SOURCE` makes, for each source, from the cache."""
    cc = gxx()
    flags = [str(f) for f in flags]
    with _lock:
        (CACHE / "obj").mkdir(parents=True, exist_ok=True)
        return [_object(cc, flags, Path(s).resolve()) for s in sources]


def link(name: str, flags: list, objects: list) -> Path:
    """The program `g++ FLAGS OBJECTS -o NAME` makes, from the cache (its name: the flags and the objects', which
    name everything that went into them). One link at a time per process: a program started while another thread
    writes an executable can inherit its open file (ETXTBSY)."""
    flags = [str(f) for f in flags]
    with _lock:
        (CACHE / "bin").mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256("\0".join([*flags, *(Path(o).name for o in objects)]).encode())
        out = CACHE / "bin" / f"{name}-{digest.hexdigest()[:20]}"
        return out if out.exists() else _run([gxx(), *flags, *map(str, objects)], out)


def program(name: str, flags: list, sources: list) -> Path:
    """The program `g++ FLAGS SOURCES -o NAME` would make (FLAGS are given to the compile and to the link), built
    from cached objects."""
    return link(name, flags, objects(flags, sources))
