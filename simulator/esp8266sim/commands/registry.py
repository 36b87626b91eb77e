"""One table of the fake's commands: what each accepts, in which dialect, under which names.

A command is declared where it is implemented, one function per form it answers:

    @command("RFVDD", "query", dialects="1")
    def rfvdd_query(call): ...

    @command("RFVDD", "set", dialects="1", args=(Int(1900, 3300),))
    def rfvdd(call): ...

- forms: which of the firmware's four forms exist (exec `AT+X`, query `AT+X?`, test `AT+X=?`, set `AT+X=..`);
  any other form is refused exactly as an unknown command is. A function answers one form (the registry answers
  `test` itself, from `test=`); the registrations of one name make one command, and an option given on more than
  one of them must be the same on each.
- args: the set form's parameters, checked before the handler runs (count, type, range), trailing ones optional
  after `required`; a handler without `args` checks its own. `miscount` is the code a wrong count gets (E_COUNT
  unless the firmware says otherwise), a type's `wrong` the code a wrong type gets (E_TYPE unless ...).
- before: a rule of state the firmware applies before it looks at the arguments, `before(call) -> (link id, the
  other arguments)`: mostly CIPMUX's (a leading link id, refused in the firmware's own words, `MUX=1`, `ID ERROR`),
  or the station being on; the handler finds the id in `call.link`.
- suffixed: 1.x naming. "alias": NAME_CUR (RAM) and NAME_DEF (saved), and the bare NAME as a deprecated NAME_DEF;
  "only": NAME_CUR and NAME_DEF, no bare name. `suffixed2` the same for 2.x (only UART keeps its suffixes there).
- long: the command answers later (its handlers are async); until it has, every line gets `busy p...` (the registry
  sets and clears busy).
`resolve()` is the one place the `_CUR`/`_DEF`/bare naming rules live.
"""
from __future__ import annotations

import asyncio
import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from ..error_codes import (E_BUSY, E_COUNT, E_FAILED, E_FORM, E_LENGTH, E_NO_AT, E_PARSE, E_TYPE, E_UNKNOWN,
                           E_VALUE)

__all__ = ["AUTO_JOINED", "Command", "Call", "Refusal", "REGISTRY", "command", "on_auto_join", "resolve", "Int",
           "OneOf", "Str", "Anything", "IP", "MAC", "ANY_INT", "E_BUSY", "E_COUNT", "E_FAILED", "E_FORM", "E_LENGTH", "E_NO_AT", "E_PARSE",
           "E_TYPE", "E_UNKNOWN", "E_VALUE"]

FORMS = ("exec", "query", "test", "set")


class Refusal(Exception):
    """The firmware says no: `detail` is 1.x's reason line before ERROR (none when empty), `code` 2.x's."""

    def __init__(self, detail: str = "", code: int = E_FAILED, final: bytes = b"") -> None:
        super().__init__(detail or f"error 0x{code:02x}")
        self.detail = detail
        self.code = code
        self.final = final          # bytes that replace ERROR (1.x CWJAP's FAIL)


# --- parameter types: each checks one argument and says why not --------------------------------------------------

@dataclass(frozen=True)
class Int:
    low: int
    high: int
    wrong: int = E_TYPE

    def check(self, value: Any) -> int:
        if not isinstance(value, int):
            raise Refusal(code=self.wrong)
        if not self.low <= value <= self.high:
            raise Refusal(code=E_VALUE)
        return value

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"


@dataclass(frozen=True)
class OneOf:
    values: Tuple[int, ...]
    wrong: int = E_TYPE

    def check(self, value: Any) -> int:
        if not isinstance(value, int):
            raise Refusal(code=self.wrong)
        if value not in self.values:
            raise Refusal(code=E_VALUE)
        return value

    def __str__(self) -> str:
        return "|".join(map(str, self.values))


@dataclass(frozen=True)
class Str:
    high: int = 64
    low: int = 0
    pattern: str = ""
    wrong: int = E_TYPE

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise Refusal(code=self.wrong)
        if not self.low <= len(value.encode()) <= self.high or (self.pattern and not re.fullmatch(self.pattern,
                                                                                                   value)):
            raise Refusal(code=E_VALUE)
        return value

    def __str__(self) -> str:
        return '"text"'


@dataclass(frozen=True)
class Anything:
    """A parameter the fake takes but does not look at (a number or a text)."""

    def check(self, value: Any) -> Any:
        return value

    def __str__(self) -> str:
        return "any"


ANY_INT = (-(1 << 31), (1 << 31) - 1)       # Int(*ANY_INT): a number of any value; its range is a rule of state
IP = Str(15, 7, r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}")
MAC = Str(17, 17, r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")


# --- the table --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    name: str
    forms: Dict[int, frozenset]                 # per dialect major: the forms it takes (absent: no such command)
    handlers: Dict[str, Callable]               # form -> the one function that answers it (not `test`)
    chapter: str
    args: Dict[int, Optional[Tuple[Any, ...]]]  # per dialect major: the set form's parameters
    required: Dict[int, int]
    miscount: Dict[int, int] = field(default_factory=dict)     # per major; E_COUNT when absent
    before: Optional[Callable[[Any], Tuple[int, Tuple[Any, ...]]]] = None
    suffixed: str = ""
    suffixed2: str = ""
    long: bool = False
    test: Dict[int, str] = field(default_factory=dict)  # per major: what `AT+X=?` prints after `+X:` (else OK)
    evidence: str = ""
    note: str = ""

    def naming(self, major: int) -> str:
        return self.suffixed if major == 1 else self.suffixed2


REGISTRY: Dict[str, Command] = {}


def command(name: str, forms: Any, chapter: str = "", args: Any = None, required: Any = None,
            miscount: Any = E_COUNT, before: Optional[Callable] = None, suffixed: str = "", suffixed2: str = "", dialects: str = "1 2", long: bool = False, test: str = "",
            evidence: str = "", note: str = "") -> Callable:
    """Register the decorated handler as command `name` (see the module's docstring). `forms`, `args`,
    `required` and `miscount` may be a dict by dialect major (1, 2) where the dialects differ."""
    majors = [int(d) for d in dialects.split()]

    def per(value: Any) -> Dict[int, Any]:
        return {m: value[m] for m in majors if m in value} if isinstance(value, dict) else {m: value for m in majors}

    def register(handler: Callable) -> Callable:
        if long != inspect.iscoroutinefunction(handler):
            raise ValueError(f"{name}: long=True goes with an async handler (it answers later), and only then")
        form_map = {m: _forms(text) for m, text in per(forms).items() if text.split()}
        answered = set().union(*form_map.values()) - {"test"}
        if len(answered) > 1:
            raise ValueError(f"{name}: one function per form, not one for {' and '.join(sorted(answered))}")
        arg_map = {m: tuple(a) if a is not None else None for m, a in per(args).items()}
        req = per(required)
        add(Command(name=name, forms=form_map, handlers={form: handler for form in answered},
                    chapter=chapter or handler.__module__.rsplit(".", 1)[-1], args=arg_map,
                    required={m: len(arg_map.get(m) or ()) if req.get(m) is None else req[m] for m in form_map},
                    miscount=per(miscount), before=before,
                    suffixed=suffixed, suffixed2=suffixed2, long=long,
                    test={m: t for m, t in per(test).items() if t}, evidence=evidence, note=note))
        return handler
    return register


def add(cmd: Command) -> None:
    """Enter `cmd` in the table, or join it to the registrations of its name so far (another form of it)."""
    old = REGISTRY.get(cmd.name)
    REGISTRY[cmd.name] = cmd if old is None else _joined(old, cmd)


def _joined(old: Command, new: Command) -> Command:
    twice = set(old.handlers) & set(new.handlers)
    if twice:
        raise ValueError(f"command {new.name}: the {' and '.join(sorted(twice))} form registered twice")

    def same(field_name: str) -> Any:
        a, b = getattr(old, field_name), getattr(new, field_name)
        if a and b and a != b:
            raise ValueError(f"command {new.name}: {field_name} differs between its forms ({a!r}, {b!r})")
        return a or b
    if old.long != new.long:
        raise ValueError(f"command {new.name}: long on some forms only")
    setter = new if "set" in new.handlers else old
    return Command(name=new.name, forms={m: old.forms.get(m, frozenset()) | new.forms.get(m, frozenset())
                                         for m in sorted(set(old.forms) | set(new.forms))},
                   handlers={**old.handlers, **new.handlers}, chapter=same("chapter"), args=setter.args,
                   required=setter.required, miscount=setter.miscount, before=setter.before, suffixed=same("suffixed"), suffixed2=same("suffixed2"), long=old.long,
                   test={**old.test, **new.test}, evidence=same("evidence"), note=same("note"))


def _forms(text: str) -> frozenset:
    forms = frozenset(text.split())
    unknown = forms - set(FORMS)
    if unknown:
        raise ValueError(f"unknown forms {sorted(unknown)}")
    return forms


def resolve(name: str, major: int) -> Optional[Tuple[Command, Optional[bool]]]:
    """A typed name to (command, saved): saved is True for `_DEF` (and a bare alias of it), False for `_CUR`,
    None when the command has no such naming (persistence then follows AT+SYSSTORE in 2.x, RAM in 1.x).
    None when the dialect has no command by that name."""
    base, suffix = name, ""
    for end in ("_CUR", "_DEF"):
        if name.endswith(end) and name[:-4] in REGISTRY:
            base, suffix = name[:-4], end
    cmd = REGISTRY.get(base)
    if cmd is None or major not in cmd.forms:
        return None
    naming = cmd.naming(major)
    if suffix:
        return (cmd, suffix == "_DEF") if naming else None
    if naming == "only":
        return None
    return cmd, (True if naming == "alias" else None)


# --- hooks: what a chapter does at a moment of the module's life that is no command ------------------------------

AUTO_JOINED: List[Callable[[Any], Awaitable[None]]] = []


def on_auto_join(hook: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
    """Register `hook(module)`, awaited once the module joined its saved AP by itself at power-up."""
    AUTO_JOINED.append(hook)
    return hook


# --- one call of a command ----------------------------------------------------------------------------------------

@dataclass
class Call:
    """What a handler gets: the module, the name as typed, the form, checked arguments and where a set goes."""
    module: Any
    name: str
    form: str
    args: Tuple[Any, ...]
    saved: Optional[bool]           # True: `_DEF`; False: `_CUR`; None: the command has no suffixes
    extra: Dict[str, Any] = field(default_factory=dict)
    link: int = 0                   # the link id the command's `before` rule took off the arguments

    @property
    def persist(self) -> bool:
        """Whether a set is written to flash: 1.x by the name, 2.x by AT+SYSSTORE (UART by its name)."""
        if self.saved is not None:
            return self.saved
        return self.module.profile.major >= 2 and bool(self.module.state["sysstore"])

    @property
    def query_saved(self) -> bool:
        """A `_DEF` query shows what flash holds."""
        return self.saved is True and self.name.endswith("_DEF")

    def emit(self, data: bytes) -> None:
        self.module.emit(data)

    def reply(self, *lines: str) -> None:
        """`+NAME:<line>` for each line (NAME as the host typed it), then OK."""
        head = self.name.encode()
        self.module.emit(b"".join(b"+%s:%s\r\n" % (head, line.encode()) for line in lines) + b"\r\nOK\r\n")

    def ok(self) -> None:
        self.module.emit(b"\r\nOK\r\n")


def check_args(cmd: Command, major: int, args: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """The set form's arguments against the declared parameters."""
    kinds = cmd.args.get(major)
    if kinds is None:
        return args
    if not cmd.required[major] <= len(args) <= len(kinds):
        raise Refusal(code=cmd.miscount.get(major, E_COUNT))
    return tuple(kind.check(value) if value is not None or index < cmd.required[major] else None
                 for index, (kind, value) in enumerate(zip(kinds, args)))


def run(cmd: Command, call: Call, spawn: Callable[[Any], "asyncio.Task[Any]"]) -> None:
    """Run a handler; a long one keeps the module busy until its coroutine ends."""
    major = call.module.profile.major
    if call.form not in cmd.forms[major]:
        raise Refusal(code=E_FORM)
    if call.form == "set":
        if cmd.before is not None:
            call.link, call.args = cmd.before(call)
        call.args = check_args(cmd, major, call.args)
    if call.form == "test":
        if major in cmd.test:
            call.reply(cmd.test[major])
        else:
            call.ok()
        return
    result = cmd.handlers[call.form](call)
    if asyncio.iscoroutine(result):
        module = call.module
        module.busy = True

        async def finish() -> None:
            try:
                await result
            except Refusal as refusal:
                module.refuse(refusal)
            finally:
                module.busy = False
        # A task cancelled before its first step (a reset or the fake's close as the line came) never awaits the
        # handler's coroutine: it is closed with the task, not collected later as "never awaited".
        spawn(finish()).add_done_callback(lambda _task: result.close())
