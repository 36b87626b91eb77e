"""The firmware's "Basic AT Commands" chapter: AT, ATE, RST, RESTORE, GMR, UART, sleep, RF and system settings.

Evidence: ESP8266 AT Instruction Set (1.7.x, chapter 3 "Basic AT Commands") and esp-at 2.2 Basic_AT_Commands.rst;
the protocol notes sections 1.5-1.6 and 7 for RST, GMR and UART.
"""
from __future__ import annotations

import time

from ..profiles import OK
from .registry import E_FAILED, REGISTRY, Call, Int, OneOf, Refusal, command
from .settings import setting

__all__ = []

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §3"
DOC2 = "esp-at 2.2 Basic_AT_Commands.rst"
ADC_READING = 8         # an ESP-01 leaves TOUT unwired: the ADC reads close to 0 (of 1024)


@command("", "exec", evidence="notes §1.1")
def at(call: Call) -> None:
    call.ok()


@command("E0", "exec", evidence="notes §1.1")
def echo_off(call: Call) -> None:
    call.module.state.set("echo", 0)
    call.ok()


@command("E1", "exec", evidence="notes §1.1")
def echo_on(call: Call) -> None:
    call.module.state.set("echo", 1)
    call.ok()


@command("RST", "exec", evidence="notes §1.5")
def rst(call: Call) -> None:
    call.ok()
    call.module.reset()


@command("RESTORE", "exec", evidence="notes §1.5; " + DOC1 + " AT+RESTORE")
def restore(call: Call) -> None:
    call.ok()
    call.module.reset(factory=True)


@command("GMR", "exec", evidence="notes §1.6")
def gmr(call: Call) -> None:
    call.emit(call.module.profile.gmr)


def _uart_apply(call: Call, value: tuple) -> None:
    """OK at the old rate, then the switch (notes §7): the rate changes once the OK is in the UART, however late a
    `slow` hold lets it go, and the wire switches once it is out."""
    call.module.emit(OK, handed=lambda: call.module.set_uart_rate(value[0]))


setting("UART", "uart", (Int(80, 4_500_000), Int(5, 8), Int(1, 3), Int(0, 2), Int(0, 3)), suffixed="alias",
        suffixed2="alias", apply=_uart_apply, evidence="notes §7",
        display=lambda call, value: (",".join(map(str, value)),))
setting("SYSSTORE", "sysstore", (Int(0, 1),), dialects="2", evidence=DOC2 + " AT+SYSSTORE")
setting("SYSLOG", "syslog", (Int(0, 1),), dialects="2", evidence=DOC2 + " AT+SYSLOG; notes §1.4")
setting("SYSMSG", "sysmsg", {1: (Int(0, 3),), 2: (Int(0, 7),)}, {1: "set", 2: "query set"}, suffixed="only",
        evidence=DOC1 + " AT+SYSMSG_CUR/_DEF; " + DOC2 + " AT+SYSMSG")
def _sleep_check(call: Call, value: int) -> None:
    if value and call.module.state["mode"] != 1:
        raise Refusal(code=E_FAILED)        # both documents: sleep modes only in station mode


def _sleep_display(call: Call, value: int) -> tuple:
    # 2.x cannot read light sleep back from the SDK: AT+SLEEP=2 queries as 3 (esp-at's note)
    return (str(3 if value == 2 and call.module.profile.major >= 2 else value),)


setting("SLEEP", "sleep", {1: (Int(0, 2),), 2: (Int(0, 3),)}, check=_sleep_check, display=_sleep_display,
        evidence=DOC1 + " AT+SLEEP (0 off, 1 light, 2 modem); " + DOC2 + " AT+SLEEP (a 2 queries as 3)")

# ESP8266 levels of 2.x AT+RFPOWER: the query shows the level the set value falls to (esp-at's table)
RF_LEVELS = ((82, 82), (78, 78), (74, 74), (68, 68), (64, 64), (56, 56), (48, 48), (40, 32))


def _rf_display(call: Call, value: int) -> tuple:
    return (str(next(level for floor, level in RF_LEVELS if value >= floor)),)


setting("RFPOWER", "rfpower", {1: (Int(0, 82),), 2: (Int(40, 82),)}, {1: "set", 2: "query set"},
        display=_rf_display, evidence=DOC1 + " AT+RFPOWER; " + DOC2 + " AT+RFPOWER (ESP8266 level table)")


@command("GSLP", "set", args=(Int(0, 2**31 - 1),), evidence=DOC1 + " AT+GSLP; " + DOC2 + " AT+GSLP")
def gslp(call: Call) -> None:
    """Deep sleep: the module answers, then hears nothing until it wakes (GPIO16 tied to RST) and boots.
    On an ESP8266 0 means for ever: only a reset wakes it."""
    ms = call.args[0]
    call.emit(b"%d\r\n" % ms + OK)
    call.module.reset(delay=ms / 1000.0 if ms else None, wake=ms > 0)


@command("RFVDD", "query", dialects="1", evidence=DOC1 + " AT+RFVDD")
def rfvdd_query(call: Call) -> None:
    call.reply(str(call.module.ram.get("vdd33", 3300)))


@command("RFVDD", "set", dialects="1", args=(Int(1900, 3300),))
def rfvdd(call: Call) -> None:
    call.module.ram["vdd33"] = call.args[0]
    call.ok()


@command("RFVDD", "exec", dialects="1")
def rfvdd_automatic(call: Call) -> None:
    call.module.ram["vdd33"] = 3300
    call.ok()


@command("SYSRAM", "query", evidence=DOC1 + " AT+SYSRAM; " + DOC2 + " AT+SYSRAM")
def sysram(call: Call) -> None:
    free = 43_512 - 1_024 * len(call.module.net.links)
    call.reply(str(free) if call.module.profile.major == 1 else f"{free},{free - 3_600}")


@command("SYSADC", "query", dialects="1", evidence=DOC1 + " AT+SYSADC")
def sysadc(call: Call) -> None:
    call.reply(str(ADC_READING))


# --- GPIO (1.x): SYSIOSETCFG chooses a pin's function, the GPIO commands drive it ---------------------------------

PINS = OneOf((0, 1, 2, 3, 4, 5, 12, 13, 14, 15))


def _gpio(call: Call) -> dict:
    return call.module.ram.setdefault("gpio", {})


@command("SYSIOSETCFG", "set", dialects="1", args=(PINS, Int(0, 4), Int(0, 1)), evidence=DOC1 + " AT+SYSIOSETCFG")
def sysiosetcfg(call: Call) -> None:
    pin, mode, pull = call.args
    _gpio(call)[pin] = {"mode": mode, "pull": pull, "dir": 0, "level": 0}
    call.ok()


@command("SYSIOGETCFG", "set", dialects="1", args=(PINS,), evidence=DOC1 + " AT+SYSIOGETCFG")
def sysiogetcfg(call: Call) -> None:
    pin = call.args[0]
    io = _gpio(call).get(pin, {"mode": 0, "pull": 0})
    call.reply(f"{pin},{io['mode']},{io['pull']}")


def _gpio_pin(call: Call, pin: int) -> dict:
    io = _gpio(call).get(pin)
    gpio_mode = 3 if pin in (12, 13, 14, 15) else 0     # the function number that makes the pin a GPIO
    if io is None and pin in (0, 2, 4, 5):
        io = _gpio(call).setdefault(pin, {"mode": 0, "pull": 0, "dir": 0, "level": 0})
    if io is None or io["mode"] != gpio_mode:
        raise Refusal("NOT GPIO MODE!")
    return io


@command("SYSGPIODIR", "set", dialects="1", args=(PINS, Int(0, 1)), evidence=DOC1 + " AT+SYSGPIODIR")
def sysgpiodir(call: Call) -> None:
    pin, direction = call.args
    _gpio_pin(call, pin)["dir"] = direction
    call.ok()


@command("SYSGPIOWRITE", "set", dialects="1", args=(PINS, Int(0, 1)), evidence=DOC1 + " AT+SYSGPIOWRITE")
def sysgpiowrite(call: Call) -> None:
    pin, level = call.args
    io = _gpio_pin(call, pin)
    if io["dir"] != 1:
        raise Refusal("NOT OUTPUT!")
    io["level"] = level
    call.ok()


@command("SYSGPIOREAD", "set", dialects="1", args=(PINS,), evidence=DOC1 + " AT+SYSGPIOREAD")
def sysgpioread(call: Call) -> None:
    pin = call.args[0]
    io = _gpio_pin(call, pin)
    call.reply(f"{pin},{io['dir']},{io['level'] if io['dir'] else io['pull']}")


@command("WAKEUPGPIO", "set", dialects="1", args=(Int(0, 1), Int(0, 15), Int(0, 1), Int(0, 15), Int(0, 1)),
         required=3, evidence=DOC1 + " AT+WAKEUPGPIO")
def wakeupgpio(call: Call) -> None:
    if call.args[0] and call.module.state["sleep"] != 1:
        raise Refusal()             # wake-up by GPIO only applies to light sleep
    call.ok()


@command("SYSTIMESTAMP", "query", dialects="2", evidence=DOC2 + " AT+SYSTIMESTAMP")
def systimestamp_query(call: Call) -> None:
    call.reply(str(int(time.time() + call.module.ram.get("epoch", 0))))


@command("SYSTIMESTAMP", "set", dialects="2", args=(Int(0, 2**32 - 1),))
def systimestamp(call: Call) -> None:
    call.module.ram["epoch"] = call.args[0] - time.time()
    call.ok()


@command("CMD", "query", dialects="2", evidence=DOC2 + " AT+CMD? (+CMD:<index>,<AT command name>,<test>,<query>,"
         "<set>,<execute>); the names' quoting is not shown there")
def cmd_list(call: Call) -> None:
    """Every 2.x command of the registry, with the forms it takes: the fake's table, as the firmware lists its own."""
    lines = []
    for cmd in REGISTRY.values():
        forms = cmd.forms.get(2)
        if forms is None:
            continue
        name = "AT" + (cmd.name if cmd.name in ("", "E0", "E1") else "+" + cmd.name)
        flags = ",".join("1" if form in forms else "0" for form in ("test", "query", "set", "exec"))
        lines.append(f'{len(lines)},"{name}",{flags}')
    call.reply(*lines)
