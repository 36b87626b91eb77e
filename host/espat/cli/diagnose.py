"""Finding what is wrong: `espat detect` and `espat doctor` (the checks themselves are espat.doctor's)."""
from __future__ import annotations

import click

from .session import Failure, Session, SessionCommand, checked_url

__all__ = ["detect", "doctor"]


@click.command(cls=SessionCommand)
@click.pass_obj
def detect(obj: Session):
    """Find the module's baud rate and firmware dialect."""
    from ..baud import diagnose, survey
    url = obj.require_port()
    probes = survey(url, trace=obj.trace)
    if not probes[-1].answered:
        raise Failure(f"no answer to AT on {url}: {diagnose(probes)}", 3)
    rate, slow = probes[-1].rate, probes[-1].slow
    with obj.module(baud=rate) as esp:
        info = esp.version()
    result = {"baud": rate, "dialect": esp.dialect.name, "slow": slow, **info}
    obj.emit(result, f"module answers at {rate} baud, AT {esp.dialect.name}"
             + (" (slowly: its answers come late; busy, or a weak supply)" if slow else "") + "\n"
             + "\n".join(f"  {k}: {v}" for k, v in info.items()))


@click.command(cls=SessionCommand)
@click.option("--softserial/--hwserial", default=True, show_default=True,
              help="how the Uno will talk to the module (SoftwareSerial cannot read 115200)")
@click.option("--url", "check_url", default="http://example.com/", show_default=True,
              help="fetched through the module to check DNS and a TCP round trip")
@click.pass_obj
def doctor(obj: Session, softserial: bool, check_url: str):
    """Check baud, dialect, echo, Wi-Fi, DNS and a TCP round trip, and say in plain words what to fix."""
    from ..doctor import examine
    checked_url(check_url)                  # a bad --url is a usage error before anything is sent
    findings = examine(obj.require_port(), softserial, check_url, trace=obj.trace)
    obj.emit([{"status": f.status, "finding": f.text} for f in findings],
             "\n".join(f"[{f.status.upper():>4}] {f.text}" for f in findings))
    if any(f.status == "fail" for f in findings):
        raise Failure("the module could not be reached", 3)
    fixes = sum(f.status == "fix" for f in findings)
    if fixes:
        raise Failure(f"{fixes} thing{'s' if fixes > 1 else ''} to fix (the [ FIX] lines above)", 1)
