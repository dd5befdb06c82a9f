"""Who really sent a mail: the receiving server's ``Authentication-Results`` (RFC 8601).

Anyone can write any ``From`` (and any ``Reply-To``); only the server that received
the mail from the internet can check it (DMARC, DKIM, SPF) and it records what it
found in an ``Authentication-Results`` header naming itself (the *authserv-id*).
The hub believes such a header only when its authserv-id is one the operator listed
(``channels.email.authserv_ids``): a sender can put any header into its own mail, so
a header naming anyone else is ignored, and of several trusted ones the topmost (the
last added, nearest to us) counts.

A mail is *verified* when DMARC passed for the ``From`` domain; when the server gave
no DMARC verdict (the domain publishes no policy), when DKIM passed with a signing
domain aligned with the ``From`` domain, or SPF passed for an aligned envelope sender.
A DMARC ``fail`` is final. Pure functions, no I/O; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "AuthResult",
    "AuthResults",
    "aligned",
    "parse_authentication_results",
    "strip_authentication_results",
    "trusted_results",
    "verified_sender",
]

HEADER = "Authentication-Results"
_NOT_FINAL = frozenset({"none", "temperror", "permerror", "neutral", "policy"})
"""DMARC results that say nothing about the sender; DKIM and SPF then decide."""


@dataclass(frozen=True, slots=True)
class AuthResult:
    """One ``method=result`` with its properties (``header.d``, ``smtp.mailfrom``...)."""

    method: str
    result: str
    props: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class AuthResults:
    """One ``Authentication-Results`` header: who checked, and what it found."""

    authserv_id: str
    results: tuple[AuthResult, ...]


def _tokens(value: str) -> list[tuple[str, str]]:
    """Words, quoted strings, ``;`` and ``=``; comments ``( ... )`` (nested) dropped."""
    tokens: list[tuple[str, str]] = []
    word: list[str] = []
    depth = 0
    i = 0

    def flush() -> None:
        if word:
            tokens.append(("word", "".join(word)))
            word.clear()

    while i < len(value):
        ch = value[i]
        if depth:
            if ch == "\\":
                i += 1
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
        elif ch == "(":
            flush()
            depth = 1
        elif ch == '"':
            flush()
            quoted: list[str] = []
            i += 1
            while i < len(value) and value[i] != '"':
                if value[i] == "\\" and i + 1 < len(value):
                    i += 1
                quoted.append(value[i])
                i += 1
            tokens.append(("quoted", "".join(quoted)))
        elif ch in ";=":
            flush()
            tokens.append((ch, ch))
        elif ch.isspace():
            flush()
        else:
            word.append(ch)
        i += 1
    flush()
    return tokens


def _resinfo(segment: list[tuple[str, str]]) -> AuthResult | None:
    """``method[/version]=result [reason=...] [ptype.property=value ...]``."""
    triples: list[tuple[str, str]] = []
    index = 0
    while index < len(segment):
        if index + 2 >= len(segment):
            return None
        key, eq, val = segment[index], segment[index + 1], segment[index + 2]
        if key[0] != "word" or eq[0] != "=" or val[0] not in ("word", "quoted"):
            return None
        triples.append((key[1].lower(), val[1]))
        index += 3
    if not triples:
        return None
    method, result = triples[0]
    props = {key: val for key, val in triples[1:] if "." in key}
    return AuthResult(method.split("/")[0].strip(), result.lower(), MappingProxyType(props))


def parse_authentication_results(value: str) -> AuthResults | None:
    """One header's value; None when it names no authserv-id (then it vouches for nothing)."""
    segments: list[list[tuple[str, str]]] = [[]]
    for token in _tokens(value.replace("\r", " ").replace("\n", " ")):
        if token[0] == ";":
            segments.append([])
        else:
            segments[-1].append(token)
    head = segments[0]
    if not head or head[0][0] not in ("word", "quoted") or any(t[0] == "=" for t in head):
        return None  # "spf=pass ..." with no authserv-id in front
    results: list[AuthResult] = []
    for segment in segments[1:]:
        found = _resinfo(segment)
        if found is not None:
            results.append(found)
    return AuthResults(head[0][1].strip().lower(), tuple(results))


def trusted_results(headers: Iterable[str], authserv_ids: Collection[str]) -> AuthResults | None:
    """The topmost header (``headers`` in mail order) from a trusted authserv-id."""
    trusted = {item.strip().lower() for item in authserv_ids if item.strip()}
    for value in headers:
        parsed = parse_authentication_results(value)
        if parsed is not None and parsed.authserv_id in trusted:
            return parsed
    return None


def _domain(value: str) -> str:
    """The domain of ``user@domain``, ``@domain`` or ``domain``, lowercased."""
    return value.strip().strip("<>").rpartition("@")[2].strip().rstrip(".").lower()


def aligned(signer: str, from_domain: str) -> bool:
    """Whether a DKIM ``d=`` or SPF domain speaks for ``from_domain``: the same domain or a
    parent of it (relaxed alignment without the public-suffix list: never a bare TLD)."""
    signer, from_domain = _domain(signer), _domain(from_domain)
    if not signer or not from_domain or "." not in signer:
        return False
    return from_domain == signer or from_domain.endswith("." + signer)


def verified_sender(results: AuthResults | None, sender: str) -> bool:
    """Whether the trusted server vouches that ``sender`` (the From address) sent this."""
    from_domain = _domain(sender)
    if results is None or "@" not in sender or not from_domain:
        return False
    dmarc = [r for r in results.results if r.method == "dmarc"]
    if any(r.result not in _NOT_FINAL and r.result != "pass" for r in dmarc):
        return False  # fail (or a result we do not know): never overruled
    header_from = {_domain(r.props.get("header.from", "")) for r in dmarc if r.result == "pass"}
    if from_domain in header_from:
        return True
    for r in results.results:
        if r.result != "pass":
            continue
        if r.method == "dkim":
            signer = r.props.get("header.d") or r.props.get("header.i", "")
            if aligned(signer, from_domain):
                return True
        elif r.method == "spf" and aligned(r.props.get("smtp.mailfrom", ""), from_domain):
            return True
    return False


_HEADER_LINE = re.compile(
    rb"^Authentication-Results[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*", re.IGNORECASE | re.MULTILINE
)


def strip_authentication_results(raw: bytes) -> bytes:
    """The mail without any ``Authentication-Results`` header: what a host we do not trust
    wrote there vouches for nothing (the SMTP listener, mail not from the local MTA)."""
    end = len(raw)
    for separator in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(separator)
        if at != -1:
            end = min(end, at + len(separator) // 2)
    head, body = raw[:end], raw[end:]
    return _HEADER_LINE.sub(b"", head) + body
