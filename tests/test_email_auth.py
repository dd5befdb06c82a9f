"""Reading Authentication-Results (RFC 8601) and deciding whether a From is vouched for.

Header strings are RFC 8601 Appendix B's examples and what Gmail, OpenDKIM/OpenDMARC,
rspamd and Microsoft 365 actually write.
"""

from __future__ import annotations

import pytest

from hub.channels.email.parse import parse_mail
from hub.channels.email.sender_auth import (
    aligned,
    parse_authentication_results,
    strip_authentication_results,
    trusted_results,
    verified_sender,
)

GMAIL = (
    "mx.google.com;\r\n"
    "       dkim=pass header.i=@example.co.id header.s=20230601 header.b=AbC/dE+f;\r\n"
    "       spf=pass (google.com: domain of budi@example.co.id designates 192.0.2.7 as"
    " permitted sender) smtp.mailfrom=budi@example.co.id;\r\n"
    "       dmarc=pass (p=NONE sp=NONE dis=NONE) header.from=example.co.id"
)


def verdict(header: str, sender: str, trusted: tuple[str, ...] = ("mx.mpp.example",)) -> bool:
    return verified_sender(trusted_results([header], trusted), sender)


def test_gmails_header_is_parsed_into_its_results() -> None:
    parsed = parse_authentication_results(GMAIL)
    assert parsed is not None
    assert parsed.authserv_id == "mx.google.com"
    assert [(r.method, r.result) for r in parsed.results] == [
        ("dkim", "pass"),
        ("spf", "pass"),
        ("dmarc", "pass"),
    ]
    assert parsed.results[0].props["header.i"] == "@example.co.id"
    assert parsed.results[1].props["smtp.mailfrom"] == "budi@example.co.id"
    assert verdict(GMAIL, "budi@example.co.id", ("mx.google.com",))
    assert not verdict(GMAIL, "budi@example.co.id"), "not from a trusted server"


def test_rfc8601_b2_no_checks_done_vouches_for_nobody() -> None:
    parsed = parse_authentication_results("example.org 1; none")
    assert parsed is not None and parsed.results == ()
    assert not verdict("example.org 1; none", "sender@example.org", ("example.org",))


def test_rfc8601_b3_spf_pass_counts_only_for_an_aligned_from() -> None:
    header = "example.com; spf=pass smtp.mailfrom=example.net"
    assert verdict(header, "sender@example.net", ("example.com",))
    assert not verdict(header, "sender@example.com", ("example.com",))


def test_rfc8601_b4_comments_and_smtp_auth_are_read_past() -> None:
    header = (
        "example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
        "          spf=pass smtp.mailfrom=example.net"
    )
    parsed = parse_authentication_results(header)
    assert parsed is not None
    assert [(r.method, r.result) for r in parsed.results] == [("auth", "pass"), ("spf", "pass")]
    assert verdict(header, "sender@example.net", ("example.com",))


def test_rfc8601_b5_sender_id_alone_is_not_enough() -> None:
    header = "example.com; sender-id=pass header.from=example.com"
    assert not verdict(header, "sender@example.com", ("example.com",))


def test_rfc8601_b6_a_failed_spf_does_not_undo_a_passed_aligned_dkim() -> None:
    header = "example.com; dkim=pass (good signature) header.d=example.com"
    assert verdict(header, "sender@example.com", ("example.com",))
    failed = (
        "example.com; auth=pass (cram-md5) smtp.auth=sender@example.com;"
        " spf=fail smtp.mailfrom=example.com"
    )
    assert not verdict(failed, "sender@example.com", ("example.com",))


def test_rfc8601_b7_of_two_signatures_the_good_one_counts_for_its_domain() -> None:
    header = (
        "mail-router.example.net;\r\n"
        "      dkim=pass (good signature) header.d=newyork.example.com header.b=oINEO8hg;\r\n"
        "      dkim=fail (bad signature) header.d=newyork.example.com header.b=EToRSuvU"
    )
    trusted = ("mail-router.example.net",)
    assert verdict(header, "sender@newyork.example.com", trusted)
    assert not verdict(header, "sender@example.com", trusted), (
        "a subdomain's key is not the parent's"
    )


@pytest.mark.parametrize(
    ("results", "sender", "verified"),
    [
        ("dmarc=pass header.from=example.co.id", "budi@example.co.id", True),
        ("dmarc=pass header.from=EXAMPLE.co.id", "budi@example.co.id", True),
        ("dmarc=pass header.from=other.example", "budi@example.co.id", False),
        # DMARC failed: an aligned DKIM pass (say, of a resent copy) cannot overrule it.
        (
            "dkim=pass header.d=example.co.id; dmarc=fail header.from=example.co.id",
            "budi@example.co.id",
            False,
        ),
        # No DMARC policy published: DKIM and SPF decide.
        (
            "dkim=pass header.d=example.co.id; dmarc=none header.from=example.co.id",
            "budi@example.co.id",
            True,
        ),
        ("dkim=pass header.d=example.co.id", "budi@example.co.id", True),
        ("dkim=pass header.d=example.co.id", "budi@mail.example.co.id", True),
        ("dkim=pass header.d=mail.example.co.id", "budi@example.co.id", False),
        ("dkim=pass header.d=example.co.id.attacker.example", "budi@example.co.id", False),
        ("dkim=pass header.d=attacker.example", "budi@example.co.id", False),
        ("dkim=pass header.d=id", "budi@example.co.id", False),
        ("dkim=fail header.d=example.co.id", "budi@example.co.id", False),
        ("dkim=pass header.i=@example.co.id", "budi@example.co.id", True),
        ('dkim=pass reason="good signature" header.d="example.co.id"', "budi@example.co.id", True),
        ("spf=pass smtp.mailfrom=bounce@example.co.id", "budi@example.co.id", True),
        ("spf=pass smtp.mailfrom=bounce@mailer.example", "budi@example.co.id", False),
        ("spf=softfail smtp.mailfrom=example.co.id", "budi@example.co.id", False),
        ("spf=pass smtp.helo=example.co.id", "budi@example.co.id", False),
        ("dmarc=pass header.from=example.co.id", "", False),
    ],
)
def test_which_results_verify_the_from(results: str, sender: str, verified: bool) -> None:
    assert verdict(f"mx.mpp.example; {results}", sender) is verified


def test_alignment_is_the_domain_or_a_parent_never_a_bare_tld() -> None:
    assert aligned("example.com", "example.com")
    assert aligned("Example.COM.", "sub.example.com")
    assert aligned("@example.com", "example.com")
    assert not aligned("com", "example.com")
    assert not aligned("ample.com", "example.com")
    assert not aligned("", "example.com")


def test_a_header_without_an_authserv_id_vouches_for_nothing() -> None:
    # Microsoft 365 writes its results without naming itself.
    header = (
        "spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=contoso.com; dkim=pass"
        " (signature was verified) header.d=contoso.com;dmarc=pass action=none"
        " header.from=contoso.com;compauth=pass reason=100"
    )
    assert parse_authentication_results(header) is None
    assert trusted_results([header], ["spf"]) is None


def test_only_the_topmost_trusted_header_counts() -> None:
    ours_failed = "mx.mpp.example; dmarc=fail (p=reject) header.from=example.co.id"
    forged_below = "mx.mpp.example; dmarc=pass header.from=example.co.id"
    someone_else = "mx.attacker.example; dmarc=pass header.from=example.co.id"
    found = trusted_results([someone_else, ours_failed, forged_below], ["MX.mpp.example"])
    assert found is not None and found.results[0].result == "fail"
    assert not verified_sender(found, "budi@example.co.id")
    assert trusted_results([someone_else], ["mx.mpp.example"]) is None
    assert trusted_results([forged_below], []) is None, "nothing trusted by default"


@pytest.mark.parametrize(
    "garbage",
    ["", ";;;", "(unclosed comment", '"unclosed', "mx.mpp.example; dkim", "mx; =pass; a=b=c"],
)
def test_garbage_never_raises(garbage: str) -> None:
    found = trusted_results([garbage], ["mx.mpp.example", "mx"])
    assert not verified_sender(found, "budi@example.co.id")


RAW = (
    b"Authentication-Results: mx.attacker.example;\r\n"
    b"\tdmarc=pass header.from=example.co.id\r\n"
    b"From: Budi <budi@example.co.id>\r\n"
    b"authentication-results: mx.mpp.example; dmarc=pass header.from=example.co.id\r\n"
    b"Subject: halo\r\n"
    b"\r\n"
    b"Authentication-Results: this line is the body and stays\r\n"
)


def test_the_parser_keeps_every_header_topmost_first_and_stripping_removes_them() -> None:
    mail = parse_mail(RAW, own_address="layanan@mpp.example")
    assert [h.split(";")[0] for h in mail.auth_results] == [
        "mx.attacker.example",
        "mx.mpp.example",
    ]
    stripped = strip_authentication_results(RAW)
    assert stripped == (
        b"From: Budi <budi@example.co.id>\r\n"
        b"Subject: halo\r\n"
        b"\r\n"
        b"Authentication-Results: this line is the body and stays\r\n"
    )
    assert parse_mail(stripped, own_address="layanan@mpp.example").auth_results == ()
    lf = RAW.replace(b"\r\n", b"\n")
    assert strip_authentication_results(lf) == stripped.replace(b"\r\n", b"\n")
