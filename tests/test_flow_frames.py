"""Flows as frames: the words that cancel, small talk, keep-or-drop answers, the paused
stack, the idle timeout, the one-message "Kembali ke …" lead, and scenario ``after``."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hub.channels.base import Capabilities
from hub.dialogs import frames
from hub.dialogs.booking import BookingFlow
from hub.dialogs.cancel_words import cancels, confirms_cancel, small_talk, soft_cancel
from hub.dialogs.care import CareFlow
from hub.dialogs.context import DialogContext
from hub.dialogs.scenarios import ScenarioError, Turn, load_scenarios
from hub.model import Choice, Reply
from hub.nlu.results import Entity, IntentScore, Parse
from hub.pipeline.render import Renderer
from hub.resources import templates_dir

WITA = ZoneInfo("Asia/Makassar")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=WITA)
CONTEXT = DialogContext(contact_id=1, conversation_id=1, channel="webchat", today=NOW.date())


class Questionnaire:
    """The smallest flow there is: one question under its own state key."""

    state_key = "survey"

    def active(self, state: dict[str, Any]) -> bool:
        return isinstance(state.get(self.state_key), dict)

    async def reask(
        self, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        return [Reply("survey_question", {"step": state[self.state_key]["step"]})]

    def describe(self, state: dict[str, Any], locale: str) -> dict[str, Any]:
        return {"flow": "survey", "step": state[self.state_key]["step"]}

    def cancel(self, state: dict[str, Any]) -> list[Reply]:
        state.pop(self.state_key, None)
        return [Reply("survey_left")]

    def cancel_is_answer(self, state: dict[str, Any], text: str) -> bool:
        return False


def test_both_flows_implement_the_protocol() -> None:
    flows: list[type[frames.Flow]] = [BookingFlow, CareFlow, Questionnaire]
    for flow in flows:
        for name in ("active", "reask", "describe", "cancel", "cancel_is_answer"):
            assert callable(getattr(flow, name)), (flow, name)
    assert (BookingFlow.state_key, CareFlow.state_key) == ("booking", "care")


@pytest.mark.parametrize(
    "text",
    [
        "batal",
        "Batal!",
        "gajadi",
        "ga jadi deh kak",
        "gak jadi",
        "batalin aja",
        "cancel",
        "stop",
        "udah ga usah",
        "never mind",
        "eh gajadi deh, ntar aja",
        "batal aja kak, lain kali",
    ],
)
def test_explicit_cancels(text: str) -> None:
    assert cancels(text)


@pytest.mark.parametrize(
    "text",
    [
        "batalin booking B-7Q4M2X",
        "batalkan antrean saya",
        "ga jadi ambil paspor, skck aja",
        "tidak",
        "ok",
        "jadi besok aja",
        "petugasnya batal datang",
        "ga jadi, besok aja",
    ],
)
def test_more_than_a_cancel_word_is_not_a_cancel(text: str) -> None:
    assert not cancels(text)


def test_batalin_aja_confirms_a_cancellation_a_bare_batal_does_not() -> None:
    assert confirms_cancel("batalin aja") and confirms_cancel("iya batalkan")
    assert not confirms_cancel("batal") and not confirms_cancel("gajadi")
    assert soft_cancel("ga usah") and not soft_cancel("udah ga usah")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("ok", "ack"),
        ("sip", "ack"),
        ("oke kak", "ack"),
        ("👍", "emoji"),
        ("🙏🙏", "emoji"),
        ("makasih", "thanks"),
        ("makasih kak", "thanks"),
        ("terima kasih banyak", "thanks"),
        ("wkwkwk", "laugh"),
        ("hehe", "laugh"),
        ("...", "ack"),
        ("hi", None),
        ("besok", None),
        ("makasih, tapi biayanya berapa?", None),
    ],
)
def test_small_talk(text: str, kind: str | None) -> None:
    assert small_talk(text) == kind


def parse(text: str, intent: str = "out_of_scope", confidence: float = 0.5) -> Parse:
    return Parse(text=text, intent=IntentScore(intent, confidence))


@pytest.mark.parametrize(
    ("text", "intent", "answer"),
    [
        ("simpan dulu aja", "out_of_scope", "keep"),
        ("iya", "affirm", "keep"),
        ("buang aja", "out_of_scope", "drop"),
        ("hapus yang tadi", "out_of_scope", "drop"),
        ("yang baru aja", "help", "drop"),
        ("lanjut yang tadi", "affirm", "back"),
        ("biaya paspor berapa", "ask_fee", None),
        ("tidak", "deny", "drop"),
    ],
)
def test_keep_or_drop_answers(text: str, intent: str, answer: str | None) -> None:
    assert frames.switch_answer(parse(text, intent)) == answer


def test_keep_or_drop_buttons() -> None:
    for choice, answer in zip(frames.SWITCH_CHOICES, ("keep", "drop", "back"), strict=True):
        pressed = Parse(text="", intent=IntentScore(choice.payload[1:], 1.0), engine="choice")
        assert frames.switch_answer(pressed) == answer


def test_the_waiting_message_survives_json_with_its_entities_and_niks() -> None:
    said = Parse(
        text="mau komplain paspor",
        intent=IntentScore("file_complaint", 0.9),
        ranking=(IntentScore("file_complaint", 0.9), IntentScore("book_queue", 0.05)),
        entities=(Entity("service", "paspor", "paspor", 13, 19),),
        locale="id",
    )
    state: dict[str, Any] = {}
    sealed = DialogContext(1, 1, "sms", NOW.date(), sealed_niks=("gAAAA-sealed",))
    frames.hold(state, said, ({"url": "/media/x.jpg"},), sealed)
    state = json.loads(json.dumps(state))
    waiting = frames.held(state)
    assert waiting is not None and frames.SWITCH not in state
    assert waiting.understanding == said
    assert waiting.attachments == ({"url": "/media/x.jpg"},)
    assert waiting.sealed_niks == ("gAAAA-sealed",)
    assert frames.held({frames.SWITCH: {"parse": "garbage"}}) is None


def test_pause_and_unpause_newest_first() -> None:
    survey = Questionnaire()
    flows: dict[str, frames.Flow] = {"survey": survey}
    state: dict[str, Any] = {"survey": {"step": 1}}
    frames.pause(survey, state, "survey")
    state["survey"] = {"step": 2}
    frames.pause(survey, state, "survey")
    assert not survey.active(state) and len(frames.paused(state)) == 2
    assert frames.unpause(state, flows) is survey and state["survey"] == {"step": 2}
    del state["survey"]
    assert frames.unpause(state, flows) is survey and state["survey"] == {"step": 1}
    assert frames.PAUSED not in state and frames.unpause(state, flows) is None


async def test_idle_flows_are_dropped_and_described() -> None:
    survey = Questionnaire()
    flows: dict[str, frames.Flow] = {"survey": survey}
    state: dict[str, Any] = {"survey": {"step": 1}}
    frames.pause(survey, state, "survey")
    state["survey"] = {"step": 2}
    frames.touch(state, flows, NOW)
    assert state[frames.LAST_SEEN] == NOW.isoformat()
    timeout = timedelta(minutes=30)
    assert frames.expire(state, flows, NOW + timeout, timeout, "id") == []
    dropped = frames.expire(state, flows, NOW + timeout + timedelta(seconds=1), timeout, "id")
    assert dropped == [{"flow": "survey", "step": 2}, {"flow": "survey", "step": 1}]
    assert state == {}
    frames.touch(state, flows, NOW)
    assert frames.LAST_SEEN not in state, "nothing under way: no time kept"


def test_a_state_without_a_time_never_times_out() -> None:
    state: dict[str, Any] = {"survey": {"step": 1}}
    flows: dict[str, frames.Flow] = {"survey": Questionnaire()}
    later = NOW + timedelta(days=3)
    assert frames.expire(state, flows, later, timedelta(minutes=30), "id") == []
    assert frames.expire(state, flows, None, timedelta(minutes=30), "id") == []


async def test_the_lead_rides_on_the_question_and_digressions_lose_their_buttons() -> None:
    survey = Questionnaire()
    state: dict[str, Any] = {"survey": {"step": 3}}
    again = await survey.reask(state, "id", CONTEXT)
    led = frames.with_lead(again, frames.lead("back", survey.describe(state, "id")))
    assert len(led) == 1 and led[0].lead is not None and led[0].template == "survey_question"
    answer = [Reply("info_fee", {}, choices=(Choice("x", "/x"),)), Reply("menu")]
    assert frames.without_choices(answer)[0].choices == ()
    assert [r.template for r in frames.without_menu(answer)] == ["info_fee"]


def test_one_message_says_where_it_comes_back_and_asks() -> None:
    renderer = Renderer(templates_dir())
    about = {"flow": "booking", "mode": "book", "service": "Paspor", "service_id": "paspor"}
    question = Reply(
        "booking_ask_date",
        {"mode": "book", "service": {"short": "Paspor"}},
        choices=(Choice("Sel 1 Des", "/inform"),),
        lead=frames.lead("back", about),
    )
    sms = Capabilities(buttons=False, max_buttons=0, max_text_length=1600, attachments=False)
    [message] = renderer.render(
        question, locale="id", channel="sms", recipient="+62", capabilities=sms
    )
    assert message.text.startswith("Kembali ke pemesanan antrean Paspor:\nAntrean Paspor tanggal")
    assert "1. Sel 1 Des" in message.text
    [english] = renderer.render(
        question, locale="en", channel="webchat", recipient="x", capabilities=sms
    )
    assert english.text.startswith("Back to your Paspor booking:\n")


def test_every_flow_notice_fits_one_sms_segment() -> None:
    renderer = Renderer(templates_dir())
    booking = {"flow": "booking", "mode": "book", "service": "Kartu Keluarga (KK)", "code": ""}
    moving = {"flow": "booking", "mode": "reschedule", "service": "", "code": "B-7Q4M2X"}
    care = {"flow": "care", "kind": "complaint", "service": "Kartu Keluarga (KK)"}
    for locale in ("id", "en"):
        texts = [renderer.text("flow_expired", locale, "sms", flows=[booking])]
        for flow in (booking, moving, care):
            texts.append(renderer.text("flow_switch", locale, "sms", flow=flow, new=care))
            for why in ("back", "kept", "dropped", "thanks", "greet", "ack", "unclear"):
                texts.append(renderer.text("flow_resume", locale, "sms", why=why, flow=flow))
        for text in texts:
            assert len(text) <= 160 and text.isascii(), text


def test_after_lets_time_pass_before_a_turn(tmp_path: Any) -> None:
    def after(text: str) -> timedelta | None:
        """As a scenario file gives it: the duration as text, parsed by validation."""
        return Turn.model_validate({"say": "x", "after": text}).after

    assert after("31m") == timedelta(minutes=31)
    assert after("1h30m") == timedelta(hours=1, minutes=30)
    assert after("2h") == timedelta(hours=2)
    assert Turn(say="x").after is None
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: x\n  channel: sms\n  turns:\n    - {say: halo, after: soon}\n")
    with pytest.raises(ScenarioError, match=r"turns\.0\.after: .*31m"):
        load_scenarios(bad)
