"""A setting is one row: its command name, the state field it reads and writes, its parameters. One query/set
handler serves them all; `check` (the firmware's extra rules) and `apply` (what the module does at once) hook in.

    setting("CWAUTOCONN", "autoconn", (Int(0, 1),))

answers `AT+CWAUTOCONN?` with `+CWAUTOCONN:1` and stores `AT+CWAUTOCONN=0` where state.py keeps that field.
Omitted trailing (or empty middle) parameters keep the factory value. Strings print quoted.
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional, Tuple

from ..atline import quote
from .registry import Call, command

__all__ = ["setting", "show"]


def show(value: Any) -> str:
    """A value as the firmware prints it after `+NAME:`."""
    if isinstance(value, tuple):
        return ",".join(show(v) for v in value)
    if isinstance(value, str):
        return '"%s"' % quote(value)
    return str(int(value))


def setting(name: str, key: str, args: Any, forms: Any = "query set", *,
            check: Optional[Callable[[Call, Any], None]] = None,
            apply: Optional[Callable[[Call, Any], None]] = None,
            display: Callable[[Call, Any], Tuple[str, ...]] = lambda call, value: (show(value),),
            **options: Any) -> None:
    """Register a command that queries and sets one state field: one function for the query, one for the set."""
    def query(call: Call) -> None:
        state = call.module.state
        value = state.saved(key) if call.query_saved else state[key]
        call.reply(*display(call, value))

    def set_(call: Call) -> None:
        state = call.module.state
        value = _merge(state.default(key), call.args)
        if check is not None:
            check(call, value)
        state.set(key, value, call.persist)
        if apply is not None:
            apply(call, value)
        else:
            call.ok()
    options.setdefault("chapter", sys._getframe(1).f_globals["__name__"].rsplit(".", 1)[-1])
    per_major = forms if isinstance(forms, dict) else {1: forms, 2: forms}
    if set(" ".join(per_major.values()).split()) - {"query", "set", "test"}:
        raise ValueError(f"{name}: settings have query, set and test forms only")
    for answers, wanted in ((query, ("query", "test")), (set_, ("set",))):
        mine = {m: " ".join(f for f in text.split() if f in wanted) for m, text in per_major.items()}
        if any(mine.values()):
            command(name, mine, args=args if answers is set_ else None, **options)(answers)


def _merge(default: Any, args: Tuple[Any, ...]) -> Any:
    """The set arguments over the factory value: one argument is a scalar setting, several a tuple."""
    if not isinstance(default, tuple):
        return args[0]
    merged = list(default) + [None] * max(0, len(args) - len(default))
    for index, arg in enumerate(args):
        if arg is not None:
            merged[index] = arg
    return tuple(merged)
