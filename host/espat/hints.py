"""What to do about a refusal, by the module's own words: the reason is kept, the fix is added."""
from __future__ import annotations

from typing import Optional

__all__ = ["fix_for", "no_answer", "silence"]

# the module's words (as they appear in its reply) -> what fixes it
FIXES = (
    ("no ip", "join Wi-Fi first: espat wifi join SSID"),
    ("ALREADY CONNECTED", "that link id is already open: close it (AT+CIPCLOSE=<id>, or AT+CIPCLOSE=5 for all) "
                          "or use another id"),
    ("DNS Fail", "the module cannot look the host up: check the network's DNS, or set a server with "
                 "AT+CIPDNS_CUR=1,\"8.8.8.8\" (AT+CIPDNS on 2.x)"),
    ("link is not valid", "no such link is open: open it with AT+CIPSTART first"),
    ("MUX=1", "the module is in multi-link mode (AT+CIPMUX=1): give a link id, as in AT+CIPSTART=0,..."),
    ("MUX=0", "the module is in single-link mode (AT+CIPMUX=0): leave out the link id, or set AT+CIPMUX=1"),
    ("wrong password", "check the password (case matters) and try again"),
    ("AP not found", "check the SSID and that the access point is in range: espat wifi scan"),
    ("busy p", "the module is still working on the previous command: wait a moment and try again"),
    # last: a connect refused with no words of the module's own (1.x answers ERROR, then CLOSED)
    ("refused CIPSTART", "the server did not take the connection: is it running, on that port, and reachable "
                         "from the module's network?"),
)


def fix_for(reason: str) -> Optional[str]:
    """The fix for a refusal whose words (the module's lines, or espat's message) include `reason`'s key."""
    folded = reason.lower()
    return next((fix for words, fix in FIXES if words.lower() in folded), None)


def no_answer(url: str, late: bool, heard: bool, bound: float) -> str:
    """Why a module gave no answer to AT, in words: a slow module, bytes that make no answer (a wrong rate), silence."""
    if late:
        return (f"the module on {url} answers AT, but not within {bound:g} s: it is slow (busy, or a weak supply); "
                "try again, or give --timeout")
    return f"the module does not answer AT on {url}: {silence(heard)}"


def silence(heard: bool) -> str:
    """What no answer at all points at: bytes that never make an answer (a wrong rate), or not a byte (wiring)."""
    if heard:
        return "bytes came back but never an answer (wrong baud rate? `espat detect` finds it)"
    return "not a byte came back (check the wiring and the supply; `espat detect` tries every rate)"
