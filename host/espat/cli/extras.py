"""Which pip extra brings a missing module: `pip install espat` is the library alone, the commands need more."""
from __future__ import annotations

from typing import Optional

__all__ = ["EXTRA_OF", "missing_extra"]

# top-level module -> the extra of pyproject.toml that installs it
EXTRA_OF = {
    "click": "cli",
    "starlette": "collect", "uvicorn": "collect", "httptools": "collect", "uvloop": "collect",
    "sqlalchemy": "collect", "platformdirs": "collect",
    "psycopg": "postgresql",
    "esp8266sim": "sim", "unosim": "sim",
}


def missing_extra(exc: ImportError, what: str) -> Optional[str]:
    """One line saying which extra to install for `what`, when `exc` is a module an extra brings; else None."""
    name = (getattr(exc, "name", None) or "").partition(".")[0]
    extra = EXTRA_OF.get(name)
    if extra is None:
        return None
    return f"{what} needs {name}, which is not installed: pip install 'espat[{extra}]'"
