"""GSM-7 folding and SMS segment counts, with expectations worked out by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from hub.catalogue import load_catalogue
from hub.channels.base import Capabilities
from hub.channels.sms_text import encoding, is_gsm7, segments, to_gsm7
from hub.dialogs.engine import MENU_INTENTS
from hub.dialogs.info import INFO_INTENTS, InfoFlow
from hub.model import AddressKind, Choice, Reply
from hub.pipeline.render import Renderer
from hub.resources import templates_dir
from tests.test_care_dialog import care_sms_contexts
from tests.test_subscription_dialog import subscription_sms_contexts

GRIN = "\U0001f600"  # an emoji outside the BMP: one surrogate pair, two UCS-2 units
S_CEDILLA = "\u015f"  # ş: in the BMP, not in GSM-7, one UCS-2 unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),  # 160 septets fit one SMS
        ("a" * 161, 2),  # split: 153 + 8
        ("a" * 306, 2),  # 153 + 153
        ("a" * 307, 3),  # 153 + 153 + 1
        ("a" * 459, 3),  # the SMS channel's text limit is exactly three parts
        ("€" * 80, 1),  # 80 x 2 septets = 160
        ("€" * 81, 2),  # 162 septets
        ("a" * 159 + "[", 2),  # 159 + 2 = 161 septets
        ("a" * 158 + "^", 1),  # 158 + 2 = 160 septets
        # 152 + 2 + 152 = 306 septets would fit two parts, but the escape pair is not
        # split: part one takes 152, part two 2 + 151, part three the last "a".
        ("a" * 152 + "€" + "a" * 152, 3),
        ("é" * 160, 1),  # é, ü, Ñ ... are GSM-7 letters
        (S_CEDILLA * 70, 1),  # UCS-2: 70 units
        (S_CEDILLA * 71, 2),  # 67 + 4
        (S_CEDILLA * 134, 2),  # 67 + 67
        (S_CEDILLA * 135, 3),
        ("a" * 69 + S_CEDILLA, 1),  # one non-GSM character makes all of it UCS-2: 70 units
        ("a" * 70 + S_CEDILLA, 2),  # 71 units
        (GRIN * 35, 1),  # 35 x 2 = 70 units
        (GRIN * 36, 2),  # 72 units: 33 emoji (66 units) + 3
        ("a" * 68 + GRIN, 1),  # 68 + 2 = 70 units
        ("a" * 69 + GRIN, 2),  # 71 units
        # 66 + 2 + 66 = 134 units would fit two parts of 67, but the pair is not split.
        ("a" * 66 + GRIN + "a" * 66, 3),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_encoding_follows_the_characters() -> None:
    assert encoding("Halo, apa kabar? {€5} [ok] ~|^\\") == "GSM-7"
    assert encoding("Terima kasih " + GRIN) == "UCS-2"
    assert encoding("“kutip”") == "UCS-2"
    assert encoding("naïve") == "UCS-2"


def test_to_gsm7_replaces_common_punctuation() -> None:
    text = (
        "“Halo” ‘Bapak’ – jam 08.00—15.00… Jl.\u00a0Raya\u202fSempidi\u200b\tMengwi • loket\u00ad"
    )
    folded = to_gsm7(text)
    assert folded == "\"Halo\" 'Bapak' - jam 08.00-15.00... Jl. Raya Sempidi Mengwi - loket"
    assert is_gsm7(folded)
    assert segments(text) == 1 and encoding(text) == "UCS-2"
    assert segments(folded) == 1 and encoding(folded) == "GSM-7"


def test_to_gsm7_keeps_gsm_letters_and_folds_accents() -> None:
    assert to_gsm7("café über Ñandu €5 {x}") == "café über Ñandu €5 {x}"
    # ú and ï have no GSM-7 code (ù and ì do): their plain letters stand in.
    assert to_gsm7("naïve façade Ａｂｃ menú") == "naive facade Abc menu"


def test_to_gsm7_keeps_emoji_so_the_meaning_survives() -> None:
    text = "Terima kasih 🙏 – sampai jumpa"
    folded = to_gsm7(text)
    assert folded == "Terima kasih 🙏 - sampai jumpa"
    # Still UCS-2 because of the emoji: 29 characters, the emoji two units = 30 units.
    assert encoding(folded) == "UCS-2" and segments(folded) == 1
    assert segments(to_gsm7("“" + "a" * 158 + "”")) == 1  # 160 septets once folded
    assert segments("“" + "a" * 158 + "”") == 3  # 160 UCS-2 units: 67 + 67 + 26


def test_curly_quotes_alone_would_cost_three_times_as_much() -> None:
    quoted = "Jam buka “Senin–Jumat”, 08.00–15.00 WITA. " * 4
    assert encoding(quoted) == "UCS-2"
    assert segments(quoted) == 3  # 168 characters as UCS-2: 67 + 67 + 34
    assert segments(to_gsm7(quoted)) == 2  # 168 septets: 153 + 15


# Every reply template, rendered for SMS, must stay GSM-7.

SMS = Capabilities(max_text_length=459, buttons=False, address_kind=AddressKind.PHONE)
MENU = tuple(Choice(title=f"@menu.{intent}", payload=f"/{intent}") for intent in MENU_INTENTS)

CONTEXTS: dict[str, list[dict[str, Any]]] = {
    "out_of_scope": [{"visa": False}, {"visa": True}],
    "greet": [{"returning": False}, {"returning": True}],
    "fallback": [{"repeated": False}, {"repeated": True}],
    "not_ready": [{"feature": f} for f in (*MENU_INTENTS, "something_else")],
    "officer_text": [{"text": "Baik Pak, berkas Anda kami cek dulu ya. Mohon ditunggu."}],
}
"""Plausible contexts per template key; keys not listed render with an empty context."""


def _info_contexts() -> dict[str, list[dict[str, Any]]]:
    """The contexts the information flow really builds, with and without a service."""
    flow = InfoFlow(load_catalogue())
    found: dict[str, list[dict[str, Any]]] = {}
    for intent in INFO_INTENTS:
        for service in (flow.catalogue.get("paspor"), flow.catalogue.get("skck"), None):
            for reply in flow.answer(intent, service, {}, "id"):
                found.setdefault(reply.template, []).append(dict(reply.context))
    return found


CONTEXTS.update(_info_contexts())


MASKED = "5103••••••••0001"


def _booking_contexts() -> dict[str, list[dict[str, Any]]]:
    """Contexts like the booking flow's, with the longest names and lists in the catalogue."""
    catalogue = load_catalogue()
    longest = max(catalogue.services.values(), key=lambda s: len(s.name_id))
    most = max(catalogue.services.values(), key=lambda s: len(s.requirements))
    day = {"iso": "2026-12-30", "weekday": 2, "day": 30, "month": 12, "year": 2026}
    session = {"name": "siang", "start": "10:00", "end": "12:00"}

    def service(s: Any) -> dict[str, Any]:
        return {"id": s.id, "name": s.name_id, "short": s.short_id, "counter": s.counter}

    def booking(s: Any) -> dict[str, Any]:
        return {
            "code": "B-7Q4M2X",
            "queue": "A-012",
            "counter": s.counter,
            "service": service(s),
            "date": day,
            "session": session,
            "status": "booked",
            "requirements": list(s.requirements),
            "requirements_brief": list(s.requirements),
            "applicant": None,
        }

    examples = ["ktp", "kk", "akta lahir"]
    changed = [
        {"slot": "service", "value": [longest.short_id, most.short_id]},
        {"slot": "date", "value": day},
        {"slot": "session", "value": session},
    ]
    applicants = [
        {"name": "I Gusti Ngurah Made Sudiarta", "nik": MASKED, "saved": False}
        | {"relation": "self", "offer_remember": True, "remember": False},
        {"name": "Made S.", "nik": MASKED, "saved": True, "relation": "self"}
        | {"offer_remember": False, "remember": False},
    ]
    about = [service(longest), service(most)]
    refusals = [
        {"reason": r, "detail": d, "service": about[0], "date": day, "session": sn, "offer": o}
        for r, d, sn, o in (
            ("past", "", "", "dates"),
            ("beyond_horizon", "14", "", "dates"),
            ("after_cutoff", "11:00", "", "dates"),
            ("closed_weekend", "", "", "dates"),
            ("holiday", "Hari Raya Natal", "", "dates"),
            ("service_closed", "", "", "dates"),
            ("full", "", "", "dates"),
            ("full", "pagi", "pagi", "sessions"),
            ("session_passed", "pagi", "", "sessions"),
            ("unknown_session", "malam", "", "sessions"),
            ("already_booked", "B-7Q4M2X", "", ""),
            ("not_found", "B-7Q4M2X", "", ""),
            ("not_active", "cancelled", "", ""),
            ("unknown_service", "", "", ""),
        )
    ]
    return {
        "booking_ask_service": [
            {"examples": examples, "date": d, "time": t}
            for d, t in (
                (None, None),
                (day, None),
                (day, {"clock": "09:30"}),
                (None, {"part": "sore"}),
            )
        ],
        "booking_ask_date": [
            {"mode": m, "service": a} for m in ("book", "reschedule") for a in about
        ],
        "booking_ask_session": [{"mode": "book", "service": a, "date": day} for a in about]
        + [
            {
                "mode": "book",
                "service": about[0],
                "also": about[1:],
                "date": day,
                "changed": changed,
            }
        ],
        "booking_confirm": [
            {"mode": "book", "service": a, "date": day, "session": session, "applicant": who}
            for a in about
            for who in (None, *applicants)
        ]
        + [
            {
                "mode": "book",
                "service": about[0],
                "also": about[1:],
                "date": day,
                "session": session,
                "changed": changed,
                "replaces": booking(most),
                "applicant": applicants[0],
            }
        ],
        "booking_ask_applicant": [
            {
                "needs_nik": needs,
                "relation": relation,
                "name": name,
                "has_nik": bool(nik),
                "nik": nik,
                "problem": problem,
            }
            for needs in (True, False)
            for relation in ("self", "child", "other")
            for name, nik in (("", ""), ("I Gusti Ngurah Made Sudiarta", ""), ("", MASKED))
            for problem in (
                None,
                *(
                    {"kind": kind, "count": 1}
                    for kind in ("too_short", "too_long", "province", "birth_date", "serial")
                ),
            )
        ]
        + [
            {
                "needs_nik": True,
                "relation": "self",
                "name": "",
                "has_nik": False,
                "nik": "",
                "problem": None,
                "booking": {"service": about[0], "also": also, "date": day, "session": session},
                "changed": changes,
            }
            for also in ([], about[1:])
            for changes in ([], changed)
        ],
        "booking_time_outside": [
            {
                "service": about[0],
                "date": day,
                "asked": asked,
                "why": why,
                "opens": "08:00",
                "closes": "13:00",
                "same_day": True,
                "later": True,
                "wanted": "sore",
            }
            for asked, why in (
                ({"clock": "13:30"}, "after_close"),
                ({"part": "sore"}, "after_close"),
                ({"clock": "07:00"}, "before_open"),
                ({"clock": "12:30"}, "between"),
            )
        ],
        "booking_reschedule_confirm": [
            {"mode": "reschedule", "service": a, "date": day, "session": session, "old": old}
            for a in about
            for old in (booking(most), None)
        ],
        "booking_done": [
            {"booking": booking(longest)},
            {"booking": booking(most), "replaced": {"code": "B-7Q4M2X", "service": "Paspor"}},
            {"booking": {**booking(most), "applicant": applicants[0], "remembered": True}},
            {
                "booking": {**booking(most), "applicant": applicants[0], "remembered": True},
                "replaced": {"code": "B-7Q4M2X", "service": "Paspor"},
            },
        ],
        "booking_rescheduled": [{"booking": booking(most), "old": booking(most)}],
        "booking_refused": refusals,
        "booking_left": [{"mode": m} for m in ("book", "reschedule", "cancel")],
        "booking_list": [
            {"bookings": [booking(longest)], "more": 0},
            {"bookings": [booking(longest), booking(most)] * 2, "more": 1},
            {"bookings": [booking(longest), booking(most)], "more": 0, "again": True},
            {"bookings": [booking(longest)], "more": 0, "missing": ["Perpanjang SIM"]},
        ],
        "booking_applicant_forgotten": [{"forgotten": True}, {"forgotten": False}],
        "booking_none": [{"code": ""}, {"code": "B-7Q4M2X"}, {"code": "", "nik": MASKED}],
        "booking_pick": [{"mode": "cancel"}, {"mode": "reschedule", "missing": ["SKCK"]}],
        "booking_cancel_confirm": [{"booking": booking(longest)}],
        "booking_cancelled": [{"booking": booking(longest)}],
        "booking_reminder": [
            {"booking": booking(b), "kind": kind}
            for b in (longest, most)
            for kind in ("day_before", "before_session")
        ],
    }


CONTEXTS.update(_booking_contexts())
CONTEXTS.update(care_sms_contexts())
CONTEXTS.update(
    {
        "announcement": [
            {
                "title": title,
                "text": "Loket paspor tutup besok.",
                "booking_code": code,
                "subscribed": sub,
            }
            for title in ("", "Info Imigrasi")
            for code, sub in (("", True), ("B-7Q4M2X", False), ("", False))
        ],
        "announcement_subject": [{"title": ""}, {"title": "Info Imigrasi"}],
    }
)
CONTEXTS.update(subscription_sms_contexts())

_FLOWS = [
    {"flow": "booking", "mode": "book", "service": "Kartu Keluarga (KK)", "code": ""},
    {"flow": "booking", "mode": "reschedule", "service": "", "code": "B-7Q4M2X"},
    {"flow": "booking", "mode": "cancel", "service": "", "code": "B-7Q4M2X"},
    {"flow": "care", "kind": "complaint", "service": "Kartu Keluarga (KK)"},
    {"flow": "care", "kind": "appreciation", "service": ""},
    {"flow": "subscription", "mode": "subscribe", "service": "", "service_id": ""},
]
CONTEXTS.update(
    {
        "flow_resume": [
            {"why": why, "flow": flow}
            for why in ("back", "kept", "dropped", "thanks", "greet", "ack", "unclear")
            for flow in _FLOWS
        ],
        "flow_switch": [{"flow": a, "new": b} for a in _FLOWS for b in _FLOWS[::3]],
        "flow_expired": [{"flows": [flow]} for flow in _FLOWS] + [{"flows": _FLOWS[::3]}],
    }
)


def _reply_keys(root: Path) -> set[str]:
    keys = set()
    for path in (root / "replies").glob("*/*.j2"):
        if path.name.startswith("_"):
            continue
        keys.add(path.name.split(".", 1)[0])
    return keys


def test_every_reply_template_renders_as_pure_gsm7_for_sms() -> None:
    root = templates_dir()
    renderer = Renderer(root)
    keys = _reply_keys(root)
    assert {"greet", "menu", "not_ready", "error"} <= keys
    checked = 0
    for locale in ("id", "en"):
        for key in sorted(keys):
            for context in CONTEXTS.get(key, [{}]):
                reply = Reply(key, context, choices=MENU)
                try:
                    messages = renderer.render(
                        reply,
                        locale=locale,
                        channel="sms",
                        recipient="+6281234567890",
                        capabilities=SMS,
                    )
                except jinja2.UndefinedError as exc:
                    pytest.fail(f"add a plausible context for {key!r} to CONTEXTS: {exc}")
                for message in messages:
                    folded = to_gsm7(message.text)
                    bad = sorted({ch for ch in folded if not is_gsm7(ch)})
                    assert not bad, f"{locale}/{key} {context}: not GSM-7: {bad!r}"
                    assert message.text.strip()
                    checked += 1
                assert "1. " in messages[-1].text, "choices become a numbered menu on SMS"
    assert checked >= 2 * len(keys)
