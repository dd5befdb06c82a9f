"""Phone numbers and NIKs must never reach a log line, while ordinary numbers must."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hub.logs import JsonFormatter, MaskingFilter, configure_logging, mask_sensitive

NIK = "3171012345678901"

PHONES = [
    ("081234567890", "081234567890"),
    ("+6281234567890", "6281234567890"),
    ("6281234567890", "6281234567890"),
    ("+62 812-3456-7890", "6281234567890"),
    ("0812 3456 7890", "081234567890"),
    ("whatsapp:+6281234567890", "6281234567890"),
    ("+14155550123", "14155550123"),
    ("+1 (415) 555-0123", "14155550123"),
    ("0361 222333", "0361222333"),
    ("(0361) 222333", "0361222333"),
]

UNTOUCHED = [
    "antrian A-012 dipanggil",
    "tahun 2026",
    "buka 08:00 sampai 15:30",
    "jadwal 2026-11-29",
    "tiket CARE-20261129-0042",
    "biaya Rp 50.000",
    "biaya Rp 1.500.000",
    "tanggal 08-12-2026 10:00",
    "17 digit 31710123456789012",
]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger (and the loggers configure_logging quietens) back as found."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy = {
        name: logging.getLogger(name).level for name in ("aiohttp.access", "sqlalchemy.engine")
    }
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, noisy_level in noisy.items():
        logging.getLogger(name).setLevel(noisy_level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(("phone", "digits"), PHONES)
def test_phone_forms_are_masked(phone: str, digits: str) -> None:
    masked = mask_sensitive(f"pesan dari {phone} diterima")
    assert digits not in _digits(masked)
    assert phone not in masked
    assert f"[phone …{digits[-3:]}]" in masked
    assert masked.startswith("pesan dari ") and masked.endswith(" diterima")


def test_whatsapp_prefix_survives() -> None:
    assert mask_sensitive("whatsapp:+6281234567890") == "whatsapp:[phone …890]"


def test_nik_is_masked_to_last_four() -> None:
    masked = mask_sensitive(f"NIK {NIK}, nomor 081234567890")
    assert masked == "NIK [nik …8901], nomor [phone …890]"
    assert NIK not in masked


def test_an_email_address_keeps_only_its_domain() -> None:
    masked = mask_sensitive("from budi.081234@example.go.id to layanan@mpp.example")
    assert masked == "from [email …@example.go.id] to [email …@mpp.example]"
    assert mask_sensitive(masked) == masked


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_numbers_are_left_alone(text: str) -> None:
    assert mask_sensitive(text) == text


def test_masking_is_idempotent() -> None:
    once = mask_sensitive(f"{NIK} +62 812-3456-7890")
    assert mask_sensitive(once) == once


def test_json_line_has_fields_and_masks_message_and_extra() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("hub.test").info(
        "pesan dari %s, NIK %s", "081234567890", NIK, extra={"sender": "+6281234567890"}
    )
    output = stream.getvalue()
    (line,) = _lines(stream)
    assert line["level"] == "INFO"
    assert line["logger"] == "hub.test"
    assert line["msg"] == "pesan dari [phone …890], NIK [nik …8901]"
    assert line["sender"] == "[phone …890]"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["ts"])
    assert "exc" not in line
    for secret in ("081234567890", "6281234567890", NIK):
        assert secret not in output


def test_non_string_extras_are_masked_and_serialisable() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("hub.test").warning(
        "kirim",
        extra={"msisdn": 6281234567890, "to": ["+14155550123"], "meta": {"nik": NIK}, "n": 3},
    )
    (line,) = _lines(stream)
    assert line["msisdn"] == "[phone …890]"
    assert line["to"] == ["[phone …123]"]
    assert line["meta"] == {"nik": "[nik …8901]"}
    assert line["n"] == 3
    assert "6281234567890" not in stream.getvalue()


def test_traceback_is_masked() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    try:
        raise ValueError(f"NIK {NIK} tidak ditemukan")
    except ValueError:
        logging.getLogger("hub.test").exception("lookup gagal")
    (line,) = _lines(stream)
    assert line["level"] == "ERROR"
    assert "ValueError: NIK [nik …8901] tidak ditemukan" in line["exc"]
    assert "Traceback" in line["exc"]
    assert NIK not in stream.getvalue()


def test_configure_twice_writes_one_line_per_record() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(stream=first)
    configure_logging("debug", stream=second)
    logging.getLogger("hub.test").debug("satu")
    logging.getLogger("hub.test").info("dua")
    assert first.getvalue() == ""
    assert [line["msg"] for line in _lines(second)] == ["satu", "dua"]
    assert logging.getLogger("aiohttp.access").level == logging.WARNING
    assert logging.getLogger("sqlalchemy.engine").level == logging.WARNING


def test_filter_masks_record_for_every_handler() -> None:
    record = logging.LogRecord(
        "hub", logging.INFO, __file__, 1, "dari %s", ("0812 3456 7890",), None
    )
    record.__dict__["sender"] = "+6281234567890"
    assert MaskingFilter().filter(record)
    assert record.msg == "dari [phone …890]"
    assert record.args is None
    assert record.__dict__["sender"] == "[phone …890]"
    assert json.loads(JsonFormatter().format(record))["sender"] == "[phone …890]"


def test_telegram_bot_token_is_masked() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    url = f"POST https://api.telegram.org/bot{token}/sendMessage"
    masked = mask_sensitive(url)
    assert token not in masked and "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in masked
    assert masked == "POST https://api.telegram.org/[bot-token]/sendMessage"
    assert mask_sensitive(f"token {token} leaked") == "token [bot-token] leaked"
