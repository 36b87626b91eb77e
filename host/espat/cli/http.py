"""`espat http get|post`: HTTP through the module, the body checked, saved whole or not at all.

The body's sha256 is shown with -v and --json so it can be compared with the server's copy, and the result says
whether a digest from the server verified it (`--require-digest` refuses a body none did). An answer that makes
espat exit non-zero (an HTTP error, a redirect not followed, an unverified body) is never written to `-o FILE`.
A POST that fails once a byte of it left exits 4 ("may have been delivered"); `--idempotency-key` lets a script
retry it.
"""
from __future__ import annotations

import base64
import json as jsonlib
import sys
import time
from typing import List, Optional, Tuple

import click

from .session import Failure, Session, SessionGroup, checked_url

__all__ = ["http"]

# Headers the request gets from espat itself, from the URL and the body; a second copy would confuse the server.
OWN_HEADERS = ("host", "content-length", "transfer-encoding", "connection", "user-agent", "idempotency-key")
IDLE_TIMEOUT = 30.0             # without --timeout: seconds without progress (no byte from the server) that end it

PASSIVE_HELP = ("receive with AT+CIPRECVDATA, asked for piece by piece (the way an Uno keeps up), instead of +IPD "
                "pushed by the module")


@click.group(cls=SessionGroup)
def http():
    """HTTP GET and POST through the module."""


def request_options(f):
    for option in reversed([
        click.argument("url"),
        click.option("--passive", is_flag=True, help=PASSIVE_HELP),
        click.option("-H", "--header", "raw_headers", multiple=True,
                     help="an extra header, 'Name: value' (replaces one espat would send, like Content-Type)"),
        click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
                     help="write the body here, only once it has arrived whole and the exit is 0 (- is stdout; a "
                          "device or FIFO is written in place)"),
        click.option("--require-digest", is_flag=True,
                     help="fail (exit 5) unless the server sent a digest that verified the body"),
    ]):
        f = option(f)
    return f


@http.command("get")
@request_options
@click.pass_obj
def http_get(obj: Session, url: str, raw_headers, output: Optional[str], passive: bool, require_digest: bool):
    """GET URL (http:// only) and print the body, or write it with -o."""
    _exchange(obj, "GET", url, b"", _headers([], raw_headers), output, passive, require_digest)


@http.command("post")
@request_options
@click.option("--json-body", "json_body", metavar="JSON", help="a JSON body (sent as application/json)")
@click.option("--data", help="a raw body (sent as application/x-www-form-urlencoded)")
@click.option("--idempotency-key", metavar="KEY",
              help="sent as the Idempotency-Key header: a server that knows it stores a retried POST once")
@click.pass_obj
def http_post(obj: Session, url: str, json_body: Optional[str], data: Optional[str], raw_headers,
              output: Optional[str], passive: bool, require_digest: bool, idempotency_key: Optional[str]):
    """POST a body to URL (--json-body or --data; --json is the output format, as for every command)."""
    if (json_body is None) == (data is None):
        raise Failure("give exactly one of --json-body or --data", 2)
    if json_body is not None:
        try:
            jsonlib.loads(json_body)
        except ValueError as exc:
            raise Failure(f"--json-body is not valid JSON: {exc}", 2) from None
        body, ctype = json_body.encode("utf-8"), "application/json"
    else:
        body, ctype = data.encode("utf-8"), "application/x-www-form-urlencoded"
    _exchange(obj, "POST", url, body, _headers([("Content-Type", ctype)], raw_headers), output, passive,
              require_digest, idempotency_key)


def _headers(defaults: List[Tuple[str, str]], raw_headers) -> List[Tuple[str, str]]:
    """espat's headers with the user's -H on top: a name given with -H replaces espat's, never adds a second."""
    given = []
    for text in raw_headers:
        name, sep, value = text.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or any(c in text for c in "\r\n") or any(c in name for c in " \t"):
            raise Failure(f"header {text!r} is not 'Name: value'", 2)
        if name.lower() in OWN_HEADERS:
            raise Failure(f"header {name!r} is set by espat itself (from the URL and the body)", 2)
        given.append((name, value))
    named = {name.lower() for name, _ in given}
    return [(n, v) for n, v in defaults if n.lower() not in named] + given


class _Progress:
    """`receiving 12.0/50.0 KB 24%` on stderr, redrawn as bytes arrive (only on a terminal)."""

    def __init__(self, shown: bool) -> None:
        self.shown, self.drawn, self.last = shown, False, 0.0

    def __call__(self, done: int, total: Optional[int]) -> None:
        now = time.monotonic()
        if not self.shown or (now - self.last < 0.1 and done != total):
            return
        self.last, self.drawn = now, True
        of = f"/{total / 1024:.1f} KB {100 * done // total:3d}%" if total else " KB"
        sys.stderr.write(f"\rreceiving {done / 1024:.1f}{of}\x1b[K")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _exchange(obj: Session, method: str, url: str, body: bytes, headers, output: Optional[str], passive: bool,
              require_digest: bool, idempotency_key: Optional[str] = None) -> None:
    from ..errors import EspAtError
    from ..httpclient import request
    from .files import open_output
    checked_url(url)
    if output == "-" and obj.as_json:
        raise Failure("-o - and --json would mix the body and the JSON on stdout: leave one out", 2)
    out = open_output(output) if output else None
    chunks: List[bytes] = []
    sink = out.write if out else chunks.append

    progress = _Progress(sys.stderr.isatty() and not obj.as_json)
    try:
        with obj.module() as esp:
            if passive:
                _passive(esp)
            response = request(esp, method, url, body, headers, sink, progress=progress, timeout=obj.timeout,
                               idle=None if obj.timeout else IDLE_TIMEOUT, idempotency_key=idempotency_key)
        failure = _verdict(response, require_digest)
        if out and failure is None:
            out.commit()
    except EspAtError as exc:
        if exc.exit_status == 4:           # it may have been delivered
            retry = (f"retrying with the same --idempotency-key {idempotency_key} is safe" if idempotency_key
                     else "give --idempotency-key KEY so that a retry is stored once")
            raise Failure(f"{exc}; {retry}", 4) from None
        raise
    finally:
        progress.finish()
        if out:
            out.discard()               # nothing left after commit; the partial file otherwise
    _report(obj, response, b"".join(chunks), output if failure is None else None, output)
    if failure is not None:
        raise failure


def _passive(esp) -> None:
    from ..client import ModuleError
    try:
        esp.set_passive(True)
    except ModuleError:
        raise Failure("this firmware has no passive receive (AT+CIPRECVMODE); leave out --passive", 1) from None


def _verdict(response, require_digest: bool) -> Optional[Failure]:
    """The failure this answer makes the command end with (and so never lands on -o FILE), or None."""
    location = response.header("Location")
    if 300 <= response.status < 400 and location:
        return Failure(f"redirected to {location} (not followed; fetch that URL if you trust it)", 1)
    if response.status >= 400:
        return Failure(f"server answered {response.status} {response.reason}", 1)
    if require_digest and not response.verified:
        return Failure("the server sent no digest of the body (Repr-Digest, Content-Digest or Content-MD5), so "
                       "nothing shows it was not changed on the serial line; --require-digest refuses it", 5)
    return None


def _checked(response) -> str:
    if response.verified:
        return f"verified by the server's {' and '.join(response.verified)}"
    return "not verified (the server sent no digest; the serial line has no checksum)"


def _report(obj: Session, response, body: bytes, written: Optional[str], output: Optional[str]) -> None:
    sha256 = response.sha256
    location = response.header("Location")
    if obj.as_json:
        shown = {"body": None}
        if not output:
            try:
                shown = {"body": body.decode("utf-8"), "body_encoding": "utf-8"}
            except UnicodeDecodeError:
                shown = {"body": base64.b64encode(body).decode("ascii"), "body_encoding": "base64"}
        click.echo(jsonlib.dumps({"status": response.status, "reason": response.reason, "length": response.length,
                                  "sha256": sha256, "digest_verified": bool(response.verified),
                                  "verified_by": response.verified, "headers": dict(response.headers),
                                  "location": location, "output": written, **shown}, indent=2, ensure_ascii=False))
    else:
        where = f" written to {written}" if written else (f" (not written to {output})" if output else "")
        click.echo(f"HTTP {response.status} {response.reason}, {response.length} bytes{where}, body "
                   f"{_checked(response)}" + (f", sha256 {sha256}" if obj.verbose else ""), err=True)
        if not output:
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
