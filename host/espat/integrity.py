"""End-to-end checks of an HTTP body against the digests its server sent.

The AT protocol has no checksum: a bit flipped on the serial line inside an `+IPD` block arrives as good data. A
server that sends an integrity field lets the client know for sure:
- RFC 9530 `Repr-Digest` and `Content-Digest`: a structured dictionary, `sha-256=:<base64>:, sha-512=:<base64>:`.
  Other algorithms (the deprecated md5, sha, crc32c, ...) are not checked.
- RFC 1864 `Content-MD5: <base64>`, still sent by some stores.
`Repr-Digest` covers the whole representation, so it is checked only against a whole one (200, no Content-Range);
the body is never decoded here, so both fields describe exactly the bytes received.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Dict, Iterable, List, Optional, Tuple

from .errors import IntegrityError

__all__ = ["Digester", "WANT_DIGEST", "content_digest"]

# RFC 9530 section 4: asking for a digest (higher is preferred), sent with a GET; servers may ignore it.
WANT_DIGEST = ("Want-Repr-Digest", "sha-256=9, sha-512=3")

_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}


def content_digest(body: bytes) -> Tuple[str, str]:
    """The RFC 9530 Content-Digest field of a request body."""
    return "Content-Digest", f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


class Digester:
    """Hashes a body as it streams past, then checks it against the response's integrity fields."""

    def __init__(self) -> None:
        self._hashes = {name: hashlib.new(name) for name in ("sha256", "sha512", "md5")}

    def update(self, data: bytes) -> None:
        for h in self._hashes.values():
            h.update(data)

    @property
    def sha256(self) -> str:
        return self._hashes["sha256"].hexdigest()

    def verify(self, status: int, headers: Iterable[Tuple[str, str]]) -> List[str]:
        """Every digest the server sent that applies, checked; returns what was checked (`Repr-Digest sha-256`).

        IntegrityError on the first mismatch, or when a digest of a known algorithm cannot be read: a damaged
        field is as untrustworthy as a damaged body."""
        checked = []
        fields = _fields(headers)
        names = ["Content-Digest", "Content-MD5"]
        if status == 200 and "content-range" not in fields:
            names.insert(0, "Repr-Digest")
        for name in names:
            for value in fields.get(name.lower(), []):
                if name == "Content-MD5":
                    pairs = [("md5", value.strip())]
                else:
                    pairs = [(alg, encoded) for alg, encoded in _dictionary(name, value) if alg in _ALGORITHMS]
                for alg, encoded in pairs:
                    h = self._hashes[_ALGORITHMS.get(alg, alg)]
                    expected = _decode(encoded, h.digest_size)
                    if expected is None:
                        raise IntegrityError(name, alg, f"an unreadable value ({encoded!r})", h.hexdigest())
                    if expected != h.digest():
                        raise IntegrityError(name, alg, expected.hex(), h.hexdigest())
                    checked.append(f"{name} {alg}")
        return checked


def _fields(headers: Iterable[Tuple[str, str]]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for key, value in headers:
        out.setdefault(key.lower(), []).append(value)
    return out


def _dictionary(name: str, value: str) -> List[Tuple[str, Optional[str]]]:
    """An RFC 8941 dictionary of byte sequences, as (key, base64 or None when a member is not one)."""
    members = []
    for member in value.split(","):         # base64 and parameters hold no comma
        key, eq, rest = member.strip().partition("=")
        key = key.strip().lower()
        if not key:
            continue
        item = rest.split(";", 1)[0].strip() if eq else ""
        if len(item) >= 2 and item[0] == ":" and item[-1] == ":":
            members.append((key, item[1:-1]))
        else:
            members.append((key, None))
    return members


def _decode(encoded: Optional[str], size: int) -> Optional[bytes]:
    """The digest's bytes, or None when they are not `size` bytes of base64."""
    if encoded is None:
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == size else None
