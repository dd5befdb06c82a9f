"""CARE in the conversation: complaints, appreciations, their status, ratings, handoff.

A complaint is a frame of slots, asked in this order when still empty: what
happened (as many messages as the citizen likes, until "sudah" or Lanjut), the
service or agency (a button, or free text matched to the catalogue; unmatched words
are kept as the category), when and where (skippable; only the missing half is
asked), photos or documents (any attachment sent during the flow is kept), and
privacy: *anonymous* (officers do not see who filed it) or *confidential* (only
supervisors read it). A summary is read back for Ya / Ubah / Batal before
:meth:`hub.care.service.CareService.file` is called.

Any message may fill any slot (:mod:`hub.dialogs.complaint_frame`): the story's
object is classified first (:mod:`hub.care.classify`; a facility complaint is never
asked for a service), its time and place are taken, an agency named by its counter
fills the agency; a free-text request for confidentiality or anonymity sets the
privacy at any step; a bribery report gets the high priority. What a message filled
unasked is said back before the next question. Open questions do not take "ok",
thanks, small talk or emoji as their answer: they are asked again.

After a status answer, the citizen may name one of their tickets by its words
("yang soal AC gimana?") or ask to escalate it ("tolong dieskalasi"): a ticket past
its deadline goes to a supervisor (:meth:`CareService.escalate`), one not yet late is
explained (:mod:`hub.dialogs.care_followup`).

An appreciation is shorter: what or whom, the service, a confirmation.

The officers take over (the reply ``handoff`` carries the reason, which the engine
puts in ``Outcome.handoff``) when the citizen asks for a person, after filing an
angry complaint (:mod:`hub.dialogs.anger`) or one about a service or agency the
citizen already has an open complaint about, and when two messages in a
row outside any flow are not understood (a question of this flow not understood is
asked again with its options). Outside office hours the citizen is told when an
officer will answer.

State lives under ``care`` (the flow), ``care_rating`` (a resolved ticket
waiting for its 1-5 rating), ``care_listed`` and ``care_shown`` (the tickets a list
or a status just showed, read by the next message) as plain JSON. A NIK the
citizen writes while filing is the reporter's: the flow keeps it as the inbound pipeline
hands it over, encrypted (``DialogContext.sealed_niks``), and the ticket stores it
encrypted; the texts have it masked. Free-text answers are read with small
word lists rather than the NLU: "sudah", "lewati" and "anonim" are not intents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from hub.care.classify import ObjectKind, Priority, is_bribery
from hub.care.service import CareService, Escalation, Ticket, TicketKind
from hub.care.status import TicketStatus
from hub.care.ticket_ids import find_ticket_ids
from hub.catalogue import Agency, Catalogue
from hub.dialogs.anger import is_angry
from hub.dialogs.cancel_words import soft_cancel
from hub.dialogs.care_followup import (
    LISTED,
    SHOWN,
    asks_about_a_ticket,
    asks_to_escalate,
    pick_ticket,
)
from hub.dialogs.care_views import (
    RATING_STATE,
    notice_state,
    rating_choices,
    ticket_notice,
    ticket_view,
)
from hub.dialogs.care_words import (
    ANSWERS,
    DONE,
    EDIT,
    EDIT_WORDS,
    HAVE_FILES,
    PRIVACY_WORDS,
    RATING_TEXT,
    SKIP,
    SWITCH_CONFIDENCE,
    YES,
    CareMessage,
    folded_text,
    has_phrase,
    tells_a_story,
    when_and_where,
)
from hub.dialogs.complaint_frame import (
    privacy_asked,
    privacy_only,
    read_slots,
    says_nothing,
)
from hub.dialogs.context import DialogContext
from hub.dialogs.info import short_name, typed_names
from hub.dialogs.views import day_view, hhmm
from hub.model import Choice, Reply
from hub.nlu.results import Parse
from hub.security.vault import SealedNikError

__all__ = [
    "CARE_INTENTS",
    "RATING_STATE",
    "STATE",
    "CareFlow",
    "notice_state",
    "ticket_notice",
]

CARE_INTENTS = ("file_complaint", "give_appreciation", "check_complaint_status", "talk_to_human")
"""The intents this flow answers."""

STATE = "care"
"""Dialog-state key of a complaint or appreciation being written."""

FREE_TEXT_STAGES = ("description", "service_text", "when_where")
"""Questions answered in the citizen's own words, where anything typed is the answer."""

MAX_SERVICE_CHOICES = 7
"""Popular services offered, plus "Lainnya": eight lines fit an SMS menu."""

MAX_LISTED = 5
"""Tickets listed for "my complaints"; the newest first."""

MAX_SEARCHED = 50
"""A citizen's tickets searched for the one their words name."""

MAX_ATTACHMENTS = 10
MAX_PARTS = 20
"""Description messages kept; a longer story is still kept, in its first 20 messages."""

OPEN_STATUSES = frozenset(
    s.value for s in TicketStatus if s not in (TicketStatus.CLOSED, TicketStatus.REJECTED)
)


_WHERE_CUT = re.compile(r"^\s*(?:di|at|in|pada)\b\s*", re.IGNORECASE)

STORY_AMBIGUOUS_AGENCIES = frozenset({"pos"})
"""Agencies whose name is a common word in a story ("pos satpam"): only an answer names them."""

NOTED_SHOWN = ("privacy", "priority", "facility", "agency", "when", "where")
"""Slots said back when a message filled them unasked."""

NIK_KEY = "reporter_nik"
"""Flow key of the reporter's NIK: ciphertext only, never the NIK itself."""


def _keep_nik(flow: dict[str, Any], context: DialogContext) -> None:
    """A NIK written during the flow is the reporter's; the latest one wins (a correction)."""
    if context.sealed_niks:
        flow[NIK_KEY] = context.sealed_niks[-1]


def _payload(intent: str, **values: str) -> str:
    """A choice payload in Rasa's style: ``/inform{"option": "skip"}``."""
    return f"/{intent}{json.dumps(values)}" if values else f"/{intent}"


def _option(option: str) -> str:
    return _payload("inform", option=option)


YES_CHOICE = Choice("@choice.yes", "/affirm")
CANCEL_CHOICE = Choice("@choice.cancel", "/deny")
NEXT_CHOICE = Choice("@choice.next", "/affirm")
SKIP_CHOICE = Choice("@choice.skip", _option("skip"))
ESCALATE_CHOICE = Choice("@choice.escalate", _option("escalate"))


class CareFlow:
    """Complaints, appreciations, status checks and ratings over the CARE service."""

    def __init__(
        self, care: CareService, menu: Callable[[], Reply], threshold: float = 0.4
    ) -> None:
        """``menu`` is the engine's main menu; ``threshold`` its intent confidence."""
        self.care = care
        self.menu = menu
        self.threshold = threshold

    @property
    def catalogue(self) -> Catalogue:
        return self.care.catalogue

    @staticmethod
    def active(state: dict[str, Any]) -> bool:
        """True while a complaint or appreciation is being written."""
        return isinstance(state.get(STATE), dict)

    def takes(self, understanding: Parse, state: dict[str, Any]) -> bool:
        """Whether this message is CARE's: a flow or rating under way, or a CARE intent."""
        if self.active(state) or state.get(RATING_STATE):
            return True
        intent = understanding.intent
        if intent.name in CARE_INTENTS and intent.confidence >= self.threshold:
            return True
        if self.ticket_alone(understanding):
            return True
        if self._follows_up(understanding, state) or self._reports_bribery(understanding):
            return True
        return understanding.engine == "choice" and understanding.first("rating") is not None

    @staticmethod
    def _follows_up(understanding: Parse, state: dict[str, Any]) -> bool:
        """An escalation asked for, or (just after a list of tickets or one ticket's
        status) words that may name one of them; :meth:`respond` decides."""
        if understanding.engine == "choice":
            option = understanding.first("option")
            return option is not None and option.value == "escalate"
        if asks_to_escalate(understanding.text):
            return True
        listed = bool(state.get(LISTED) or state.get(SHOWN))
        intent = understanding.intent
        return listed and (intent.name in ANSWERS or intent.confidence < SWITCH_CONFIDENCE)

    def _reports_bribery(self, understanding: Parse) -> bool:
        """ "dimintai 50rb biar cepat": a report of bribery whatever the NLU made of it,
        unless it is confidently another question."""
        intent = understanding.intent
        return (
            understanding.engine != "choice"
            and is_bribery(understanding.text)
            and (
                intent.name in (*ANSWERS, "file_complaint") or intent.confidence < SWITCH_CONFIDENCE
            )
        )

    @staticmethod
    def ticket_alone(understanding: Parse) -> bool:
        """A ticket id with no request around it ("CARE-20261130-0001"): asks about it."""
        return understanding.intent.name in ANSWERS and any(
            e.type == "ticket_id" for e in understanding.entities
        )

    async def respond(
        self,
        understanding: Parse,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> list[Reply] | None:
        """The replies to one message, or None when it is not CARE's after all.

        ``state`` is changed in place. None means the engine answers the message as
        usual (a question mid-flow, or anything but a rating while one is awaited); a
        flow under way stays, and the engine asks its question again afterwards.
        """
        message = CareMessage(understanding, tuple(attachments))
        rating = self._rating_in(message, state)
        state.pop(RATING_STATE, None)  # answered, or passed over for something else
        if rating is not None:
            return await self._rate(*rating, context)
        seen = {key: state.pop(key) for key in (LISTED, SHOWN) if key in state}
        if not self.active(state):
            followed = await self._follow_up(message, state, seen, locale, context)
            if followed is not None:
                return followed
        flow = state.get(STATE) if self.active(state) else None
        if flow is not None:
            replies = await self._continue(flow, message, state, locale, context)
            if replies is not None:
                return replies
            # Not an answer: the flow stays; the engine answers and asks again.
        intent = understanding.intent
        if self.ticket_alone(understanding):
            return await self._status(message, state, locale, context)
        bribery = self._reports_bribery(understanding)
        if not bribery and (intent.name not in CARE_INTENTS or intent.confidence < self.threshold):
            return None
        if bribery and intent.name not in CARE_INTENTS:
            return await self._start(TicketKind.COMPLAINT, message, state, locale, context)
        if intent.name == "talk_to_human":
            return [self.handoff("asked", context)]
        if intent.name == "check_complaint_status":
            return await self._status(message, state, locale, context)
        kind = TicketKind.COMPLAINT if intent.name == "file_complaint" else TicketKind.APPRECIATION
        return await self._start(kind, message, state, locale, context)

    # --- handing over to officers -------------------------------------------------------------

    def handoff(self, reason: str, context: DialogContext, ticket_id: str = "") -> Reply:
        """What the citizen is told when officers take over, and when they answer."""
        care = self.care
        now = context.now or care.clock()
        opens, closes = care.config.office_opens, care.config.office_closes
        days = care.working_days
        values: dict[str, Any] = {"reason": reason, "open": True, "next": None, "ticket": ticket_id}
        if not days.is_open(now, opens, closes):
            at = days.next_opening(now, opens, closes).astimezone(days.timezone)
            today = now.astimezone(days.timezone).date()
            values["open"] = False
            values["next"] = {
                **day_view(at.date()),
                "time": hhmm(at.time()),
                "today": at.date() == today,
                "tomorrow": (at.date() - today).days == 1,
            }
        return Reply("handoff", values)

    # --- writing a complaint or an appreciation -----------------------------------------------

    async def _start(
        self,
        kind: TicketKind,
        message: CareMessage,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply]:
        """A new flow, filled from whatever the first message already says."""
        state.pop(STATE, None)
        flow: dict[str, Any] = {
            "kind": kind.value,
            "stage": "",
            "description": [],
            "attachments": [],
            "misses": 0,
        }
        self._keep_files(flow, message)
        _keep_nik(flow, context)
        service = self._service_in(message)
        if service is not None:
            flow["service"] = service
            flow["service_done"] = True
        text = message.text
        flow["angry"] = bool(text) and is_angry(text)
        if text and tells_a_story(text) and not privacy_only(text):
            flow["description"].append(text)
            flow["described"] = True
        self._fill(flow, message, place=bool(flow["description"]))
        state[STATE] = flow
        return await self._next(flow, state, locale, context)

    def _fill(self, flow: dict[str, Any], message: CareMessage, *, place: bool) -> None:
        """Fill the complaint's slots this message speaks of and are still empty (never
        overwriting an answer), noting each for the next question to say back: privacy
        and priority from any message; with ``place``, also the object, the agency a
        counter names, when and where."""
        text = message.text
        if not text or flow.get("kind") != TicketKind.COMPLAINT.value:
            return
        noted: list[str] = flow.setdefault("noted", [])
        slots = read_slots(text, self.catalogue)
        if slots.privacy and flow.get("privacy") != slots.privacy:
            flow["privacy"] = slots.privacy
            noted.append("privacy")
        if slots.about.bribery and flow.get("priority") != Priority.HIGH.value:
            flow["priority"] = Priority.HIGH.value
            noted.append("priority")
        if not place:
            return
        about = slots.about
        if about.object is not None and not flow.get("object"):
            flow["object"] = about.object.value
            if about.object is ObjectKind.FACILITY:
                flow["facility"] = about.facility
                noted.append("facility")
                if not flow.get("service_done"):
                    # A broken AC belongs to no service: never asked "which service?".
                    flow.update(category=about.facility, service_done=True)
        agency = slots.agency or self._agency_in(text, story=True)
        if agency and not flow.get("service_done"):
            flow.update(agency=agency if isinstance(agency, str) else agency.id)
            flow["service_done"] = True
            noted.append("agency")
        for slot in ("when", "where"):
            value = getattr(slots, slot)
            if value and not flow.get(slot):
                flow[slot] = value
                noted.append(slot)
        if flow.get("when") and flow.get("where"):
            flow["when_where_done"] = True

    async def _continue(
        self,
        flow: dict[str, Any],
        message: CareMessage,
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply] | None:
        """One answer to the pending question; None leaves the flow for another question."""
        stage = str(flow.get("stage"))
        if stage != "privacy" and privacy_only(message.text) and privacy_asked(message.text):
            # "rahasiakan ya", "jangan sebut nama saya" (read as a "no" by the NLU) at
            # any step: set, said back, and the same question again.
            self._fill(flow, message, place=False)
            return await self._next(flow, state, locale, context)
        if message.cancels() or (stage == "confirm" and message.intent == "deny"):
            del state[STATE]
            return [Reply("care_left", {"kind": flow.get("kind")}), self.menu()]
        if message.asks_for_a_person(stage in FREE_TEXT_STAGES):
            del state[STATE]
            return [self.handoff("asked", context)]
        received = self._keep_files(flow, message)
        _keep_nik(flow, context)
        if message.text and is_angry(message.text):
            flow["angry"] = True
        if stage != "privacy":  # there the privacy is the answer, not something to say back
            self._fill(flow, message, place=False)
        if received and not message.text and stage != "attachments":
            # A photo with no words: kept, and the same question again.
            return await self._next(flow, state, locale, context, received=received)
        step = self._steps().get(stage)
        if step is None:  # a stage this version does not know: start from what is filled
            return await self._next(flow, state, locale, context)
        answered = step(flow, message)
        if answered is None:
            return None
        if not answered:
            # Asked again with its options: a miss inside a flow never hands over
            # (only "batal" ends the flow), and it is not counted toward a handoff.
            flow["misses"] = int(flow.get("misses", 0)) + 1
            return await self._next(flow, state, locale, context, again=True)
        flow["misses"] = 0
        if flow.get("stage") == "filing":
            return await self._file(flow, state, locale, context)
        return await self._next(flow, state, locale, context, received=received)

    def _steps(self) -> dict[str, Callable[[dict[str, Any], CareMessage], bool | None]]:
        """Each stage's reader of one answer: True when it was an answer, False when not
        understood (asked again), None when the citizen asks something else instead."""
        return {
            "description": self._on_description,
            "service": self._on_service,
            "service_text": self._on_service_text,
            "when_where": self._on_when_where,
            "attachments": self._on_attachments,
            "privacy": self._on_privacy,
            "confirm": self._on_confirm,
            "edit": self._on_edit,
        }

    def _on_description(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        parts: list[str] = flow["description"]
        done = (message.chosen and message.intent == "affirm") or message.folded in DONE
        if done:
            if not parts:
                return False
            flow["described"] = True
            return True
        if says_nothing(message):
            # "sip", "makasih", 👍: the end of the story once there is one, else no story yet.
            if parts:
                flow["described"] = True
            return bool(parts)
        service = self._service_in(message)
        text = message.text
        if service is not None and parts and len(text.split()) <= 3:
            # The story told, then just "paspor": that is the service, the story is done.
            flow.update(service=service, service_done=True, described=True)
            return True
        if not text:
            return False
        if service is not None and not flow.get("service_done"):
            flow.update(service=service, service_done=True)
        if len(parts) < MAX_PARTS:
            parts.append(text)
        self._fill(flow, message, place=True)
        if flow.get("kind") == TicketKind.APPRECIATION.value:
            flow["described"] = True  # one message is enough to say thank you
        return True

    def _on_service(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        option = message.option
        if option == "other":
            flow["stage"] = "service_text"
            return True
        return self._read_service(flow, message)

    def _on_service_text(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        return self._read_service(flow, message)

    def _read_service(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        service = self._service_in(message)
        if service is not None:
            flow.update(service=service, service_done=True)
            return True
        if message.option == "skip" or (message.text and message.folded in SKIP | {""}):
            flow["service_done"] = True  # "lewati", "tidak tahu", "-"
            return True
        if message.chosen:
            return None if message.elsewhere() else False
        text = message.text
        if not text or says_nothing(message):
            return False  # "iya sama2 makasih" is no agency: asked again, with examples
        agency = self._agency_in(text)
        if agency is not None:
            flow.update(agency=agency.id, service_done=True)
            return True
        before = len(flow.get("noted", ()))
        self._fill(flow, message, place=True)
        if len(flow.get("noted", ())) > before:
            # "tadi pagi jam 9 di loket 3": the time and place, not the service; kept,
            # and the service asked again only if still unknown.
            return True
        flow["category"] = text[:200]
        flow["service_done"] = True
        return True

    def _on_when_where(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        text = message.text
        if message.option == "skip" or (text and message.folded in SKIP | {""}):
            flow["when_where_done"] = True  # "lewati", "-"
            return True
        if message.chosen:
            return None if message.elsewhere() else False
        if not text or says_nothing(message):
            return False  # "ok kirim" is no time and no place
        found = read_slots(text, self.catalogue)
        if flow.get("where") and not flow.get("when"):
            flow["when"] = (found.when or text)[:200]
        elif flow.get("when") and not flow.get("where"):
            flow["where"] = (found.where or _WHERE_CUT.sub("", text).strip())[:200]
        else:
            flow["when_where"] = text[:400]
            flow["when"], flow["where"] = when_and_where(message.understanding)
        flow["when_where_done"] = True
        return True

    def _on_attachments(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        if message.attachments or message.option == "skip":
            flow["attachments_done"] = True
            return True
        if message.chosen:
            if message.intent == "affirm":
                flow["attachments_done"] = True
                return True
            return None if message.elsewhere() else False
        if message.folded in HAVE_FILES:
            flow["waiting"] = True  # "ada": they are about to send them
            return True
        if message.elsewhere():
            return None
        flow["attachments_done"] = True  # "tidak ada", "nanti saja": no files, move on
        return True

    def _on_privacy(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        chosen = message.option
        if chosen not in ("normal", "anonymous", "confidential"):
            chosen = privacy_asked(message.text) if message.text else None
            folded = message.folded
            for value, words in PRIVACY_WORDS:
                if chosen is None and folded and any(has_phrase(folded, w) for w in words):
                    chosen = value
                    break
        if chosen is None:
            return None if message.elsewhere() else False
        flow["privacy"] = chosen
        return True

    def _on_confirm(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        folded = message.folded
        if message.option == "edit" or folded in EDIT:
            flow["stage"] = "edit"
            return True
        yes = message.intent == "affirm" and (
            message.chosen or message.understanding.intent.confidence >= self.threshold
        )
        if yes or folded in YES:
            flow["stage"] = "filing"
            return True
        return None if message.elsewhere() else False

    def _on_edit(self, flow: dict[str, Any], message: CareMessage) -> bool | None:
        part = message.option.removeprefix("edit_") if message.option else None
        if part is None and message.folded:
            part = next(
                (p for p, words in EDIT_WORDS if any(has_phrase(message.folded, w) for w in words)),
                None,
            )
        if part == "description":
            flow.update(description=[], described=False)
        elif part == "service":
            flow.update(service=None, agency=None, category="", service_done=False)
        elif part == "when_where":
            flow.update(when_where="", when="", where="", when_where_done=False)
        elif part == "privacy":
            flow["privacy"] = None
        else:
            return None if message.elsewhere() else False
        flow["stage"] = ""
        return True

    # --- asking -------------------------------------------------------------------------------

    async def _next(
        self,
        flow: dict[str, Any],
        state: dict[str, Any],
        locale: str,
        context: DialogContext,
        *,
        again: bool = False,
        received: int = 0,
    ) -> list[Reply]:
        """Ask for the first thing still missing, or read the summary back."""
        complaint = flow.get("kind") == TicketKind.COMPLAINT.value
        files = len(flow["attachments"])
        asked = {
            "again": again,
            "received": received,
            "files": files,
            "noted": self._noted(flow, locale),
        }
        stage = str(flow.get("stage"))
        if not flow.get("described"):
            flow["stage"] = "description"
            if not complaint:
                return [Reply("appreciation_ask_description", asked, choices=(CANCEL_CHOICE,))]
            more = bool(flow["description"])
            return [
                Reply(
                    "care_ask_description",
                    {**asked, "more": more},
                    choices=(NEXT_CHOICE, CANCEL_CHOICE) if more else (CANCEL_CHOICE,),
                )
            ]
        if not flow.get("service_done"):
            typing = stage == "service_text"
            flow["stage"] = "service_text" if typing else "service"
            return [self._ask_service(flow, asked, typing, locale)]
        if complaint and not flow.get("when_where_done"):
            flow["stage"] = "when_where"
            need = "where" if flow.get("when") else "when" if flow.get("where") else "both"
            return [Reply("care_ask_when_where", {**asked, "need": need}, choices=(SKIP_CHOICE,))]
        if complaint and not flow.get("attachments_done"):
            flow["stage"] = "attachments"
            waiting = bool(flow.pop("waiting", False))
            return [
                Reply(
                    "care_ask_attachments",
                    {**asked, "waiting": waiting},
                    choices=(NEXT_CHOICE if files else SKIP_CHOICE,),
                )
            ]
        if complaint and not flow.get("privacy"):
            flow["stage"] = "privacy"
            return [
                Reply(
                    "care_ask_privacy",
                    asked,
                    choices=tuple(
                        Choice(f"@privacy.{p}", _option(p))
                        for p in ("normal", "anonymous", "confidential")
                    ),
                )
            ]
        if stage == "edit":
            return [
                Reply(
                    "care_ask_edit",
                    asked,
                    choices=tuple(
                        Choice(f"@edit.{part}", _option(f"edit_{part}"))
                        for part, _words in EDIT_WORDS
                    ),
                )
            ]
        flow["stage"] = "confirm"
        summary = {
            **asked,
            "description": "\n".join(flow["description"]),
            "about": self._about(flow, locale),
            "when_where": flow.get("when_where", ""),
            "when": flow.get("when", ""),
            "where": flow.get("where", ""),
            "object": flow.get("object") or "",
            "facility": flow.get("facility", ""),
            "priority": flow.get("priority") or Priority.NORMAL.value,
            "privacy": flow.get("privacy") or "normal",
        }
        if not complaint:
            return [Reply("appreciation_summary", summary, choices=(YES_CHOICE, CANCEL_CHOICE))]
        edit = Choice("@choice.edit", _option("edit"))
        return [Reply("care_summary", summary, choices=(YES_CHOICE, edit, CANCEL_CHOICE))]

    def _noted(self, flow: dict[str, Any], locale: str) -> dict[str, str]:
        """What this turn filled unasked, to say back before the next question."""
        noted = flow.pop("noted", [])
        shown: dict[str, str] = {}
        for slot in NOTED_SHOWN:
            if slot not in noted:
                continue
            if slot == "agency":
                shown[slot] = self._about(flow, locale)
            else:
                shown[slot] = str(flow.get(slot) or "")
        return shown

    def _ask_service(
        self, flow: dict[str, Any], asked: dict[str, Any], typing: bool, locale: str
    ) -> Reply:
        popular = self.catalogue.popular(MAX_SERVICE_CHOICES)
        kind = flow.get("kind")
        values = {
            **asked,
            "kind": kind,
            "typing": typing,
            "examples": typed_names(self.catalogue, locale, 3),
        }
        if typing:
            return Reply("care_ask_service", values, choices=(SKIP_CHOICE,))
        choices = [Choice(short_name(s, locale), _payload("inform", service=s.id)) for s in popular]
        choices.append(Choice("@choice.other", _option("other")))
        return Reply("care_ask_service", values, choices=tuple(choices))

    def _about(self, flow: dict[str, Any], locale: str) -> str:
        service = self.catalogue.get(str(flow.get("service") or ""))
        if service is not None:
            return short_name(service, locale)
        agency = self.catalogue.agencies.get(str(flow.get("agency") or ""))
        if agency is not None:
            return agency.wording(locale).short
        return str(flow.get("category") or "")

    # --- filing -------------------------------------------------------------------------------

    async def _file(
        self, flow: dict[str, Any], state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        kind = TicketKind(str(flow.get("kind")))
        privacy = flow.get("privacy")
        service = self.catalogue.get(str(flow.get("service") or ""))
        ticket = await self.care.file(
            kind=kind,
            contact_id=context.contact_id,
            channel=context.channel,
            conversation_id=context.conversation_id,
            description="\n".join(flow["description"]),
            service_id=service.id if service is not None else None,
            agency=flow.get("agency") or None,
            category=str(flow.get("category") or ""),
            incident_when=str(flow.get("when") or ""),
            incident_where=str(flow.get("where") or ""),
            anonymous=privacy == "anonymous",
            confidential=privacy == "confidential",
            attachments=list(flow["attachments"]),
            reporter_nik=None if privacy == "anonymous" else self._reporter_nik(flow),
            priority=Priority(str(flow.get("priority") or Priority.NORMAL.value)),
            object_kind=self._object_of(flow, service is not None),
        )
        del state[STATE]
        view = ticket_view(ticket, self.catalogue, locale, self.care.working_days.timezone)
        if kind is TicketKind.APPRECIATION:
            return [Reply("appreciation_filed", {"ticket": view})]
        filed = {"ticket": view, "days": self.care.verify_days(ticket.priority)}
        reason = "angry" if flow.get("angry") else None
        if reason is None and await self._repeated(ticket):
            reason = "repeated"
        if reason is not None:
            # Officers take the conversation: no buttons that would only reach them.
            return [Reply("care_filed", filed), self.handoff(reason, context, ticket.ticket_id)]
        status = Choice("@intent.check_complaint_status", "/check_complaint_status")
        return [Reply("care_filed", filed, choices=(status,))]

    @staticmethod
    def _object_of(flow: dict[str, Any], has_service: bool) -> ObjectKind | None:
        """What the complaint is about: as classified, else the service it names."""
        if flow.get("kind") != TicketKind.COMPLAINT.value:
            return None
        if flow.get("object"):
            return ObjectKind(str(flow["object"]))
        return ObjectKind.SERVICE if has_service or flow.get("agency") else None

    def _reporter_nik(self, flow: dict[str, Any]) -> str | None:
        """The NIK kept during the flow, opened only to hand it to the ticket's own field."""
        sealed = flow.get(NIK_KEY)
        vault = self.care.vault
        if not isinstance(sealed, str) or vault is None:
            return None
        try:
            return vault.decrypt(sealed)
        except SealedNikError:
            return None

    async def _repeated(self, ticket: Ticket) -> bool:
        """Whether the citizen already has an open complaint about the same thing."""
        for other in await self.care.for_contact(ticket.contact_id, limit=50):
            if (
                other.ticket_id == ticket.ticket_id
                or other.kind != TicketKind.COMPLAINT.value
                or other.status not in OPEN_STATUSES
            ):
                continue
            if ticket.service_id and other.service_id == ticket.service_id:
                return True
            if ticket.agency and other.agency == ticket.agency:
                return True
            if (
                not ticket.agency
                and ticket.category.strip()
                and other.category.strip().casefold() == ticket.category.strip().casefold()
            ):
                return True
        return False

    # --- status and rating --------------------------------------------------------------------

    async def _status(
        self, message: CareMessage, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """One ticket by its id (the citizen's own only), else the one the words name
        among several, else the citizen's latest tickets."""
        wanted = [str(t) for t in find_ticket_ids(message.understanding.text)]
        entity = message.value("ticket_id")
        if entity:
            wanted.append(entity)
        if wanted:
            return await self._status_of(wanted[0], state, locale, context)
        tickets = await self.care.for_contact(context.contact_id, limit=MAX_SEARCHED)
        if not tickets:
            return [self._none("")]
        picked = self._picked(message, tickets) if len(tickets) > 1 else None
        if picked is not None:
            return await self._status_of(picked.ticket_id, state, locale, context)
        shown = tickets[:MAX_LISTED]
        # What comes next may name one of them ("yang soal AC gimana?") or, with a
        # single one, ask to escalate it.
        if len(shown) == 1:
            state[SHOWN] = shown[0].ticket_id
        else:
            state[LISTED] = [t.ticket_id for t in shown]
        views = [self._view(t, locale) for t in shown]
        return [Reply("care_list", {"tickets": views, "more": len(tickets) > MAX_LISTED})]

    async def _status_of(
        self, ticket_id: str, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        detail = await self.care.get(ticket_id)
        if detail is None or detail.ticket.contact_id != context.contact_id:
            # A stranger's ticket reveals nothing, not even that it exists.
            return [self._none(ticket_id)]
        ticket = detail.ticket
        note = next(
            (
                e.note
                for e in reversed(detail.history)
                if e.kind == "status"
                and e.to_status == ticket.status
                and e.actor not in ("citizen", "system")
                and e.note.strip()
            ),
            "",
        )
        choices: tuple[Choice, ...] = ()
        rate = ticket.status == TicketStatus.RESOLVED.value and ticket.rating is None
        view = self._view(ticket, locale)
        if rate:
            state[RATING_STATE] = ticket.ticket_id
            choices = rating_choices(ticket.ticket_id)
        elif view["late"] and not ticket.needs_supervisor:
            choices = (ESCALATE_CHOICE,)
        state[SHOWN] = ticket.ticket_id
        return [Reply("care_status", {"ticket": view, "note": note, "rate": rate}, choices)]

    def _view(self, ticket: Ticket, locale: str) -> dict[str, Any]:
        zone = self.care.working_days.timezone
        return ticket_view(ticket, self.catalogue, locale, zone, now=self.care.clock())

    def _picked(self, message: CareMessage, tickets: Sequence[Ticket]) -> Ticket | None:
        services = [e.value for e in message.understanding.entities if e.type == "service"]
        return pick_ticket(message.understanding.text, tickets, self.catalogue, services)

    # --- follow-ups: naming one ticket, escalating a late one ---------------------------------

    async def _follow_up(
        self,
        message: CareMessage,
        state: dict[str, Any],
        seen: dict[str, Any],
        locale: str,
        context: DialogContext,
    ) -> list[Reply] | None:
        """A follow-up on tickets already filed, or None when the message is none.

        "tolong dieskalasi" escalates the ticket it names, else the one whose status
        was just shown, else the citizen's only open one. "yang soal AC gimana?" after
        a list (or with a status question) shows the ticket those words name."""
        text = message.understanding.text
        escalate = message.option == "escalate" or (not message.chosen and asks_to_escalate(text))
        if not escalate:
            asking = message.intent == "check_complaint_status" or (
                message.intent == "file_complaint" and asks_about_a_ticket(text)
            )
            # Just after a status answer, a short message may name one ("yg keluhan
            # loket 3"); a whole new story is a new complaint.
            naming = bool(seen) and not tells_a_story(text)
            if message.chosen or find_ticket_ids(text) or not (naming or asking):
                return None
            tickets = await self.care.for_contact(context.contact_id, limit=MAX_SEARCHED)
            picked = self._picked(message, tickets) if len(tickets) > 1 else None
            if picked is None:
                return None
            return await self._status_of(picked.ticket_id, state, locale, context)
        ticket_id = await self._to_escalate(message, seen, context)
        if ticket_id is None:
            return await self._status(message, state, locale, context)
        result = await self.care.escalate(ticket_id, context.contact_id)
        if result is None:
            return [self._none(ticket_id)]
        outcome, ticket = result
        values = {"ticket": self._view(ticket, locale), "outcome": outcome.value}
        if outcome is Escalation.NOT_LATE:
            state[SHOWN] = ticket.ticket_id  # "eskalasi" again once it is late
        return [Reply("care_escalated", values)]

    async def _to_escalate(
        self, message: CareMessage, seen: dict[str, Any], context: DialogContext
    ) -> str | None:
        """Which ticket an escalation request means; None when it cannot be told."""
        text = message.understanding.text
        named = find_ticket_ids(text)
        if named:
            return str(named[0])
        tickets = await self.care.for_contact(context.contact_id, limit=MAX_SEARCHED)
        picked = self._picked(message, tickets) if len(tickets) > 1 else None
        if picked is not None:
            return picked.ticket_id
        if isinstance(seen.get(SHOWN), str):
            return str(seen[SHOWN])
        open_ones = [
            t for t in tickets if t.kind == TicketKind.COMPLAINT.value and t.status in OPEN_STATUSES
        ]
        return open_ones[0].ticket_id if len(open_ones) == 1 else None

    @staticmethod
    def _none(ticket_id: str) -> Reply:
        return Reply(
            "care_none",
            {"id": ticket_id},
            choices=(Choice("@intent.file_complaint", "/file_complaint"),),
        )

    @staticmethod
    def _rating_in(message: CareMessage, state: dict[str, Any]) -> tuple[str, int, str] | None:
        """(ticket id, rating, comment) when the message rates a ticket.

        A rating button names its ticket; typed, "4" or "4 cukup cepat" rates the
        ticket awaiting a rating. The typed digit wins over a numbered-menu reading,
        since a stale menu may still be on record when the rating question came.
        """
        awaited = state.get(RATING_STATE)
        rating = message.value("rating") if message.chosen else None
        if rating is not None and rating.isdigit() and 1 <= int(rating) <= 5:
            ticket_id = message.value("ticket_id") or awaited
            if ticket_id:
                return str(ticket_id), int(rating), ""
        if not awaited:
            return None
        typed = RATING_TEXT.match(message.understanding.text)
        if typed is None:
            return None
        return str(awaited), int(typed.group(1)), typed.group(2).strip()[:1000]

    async def _rate(
        self, ticket_id: str, rating: int, comment: str, context: DialogContext
    ) -> list[Reply]:
        ticket = await self.care.rate(ticket_id, context.contact_id, rating, comment)
        low = rating <= self.care.config.low_rating
        return [
            Reply(
                "care_rate_thanks",
                {
                    "ticket_id": ticket_id,
                    "rating": rating,
                    "low": low,
                    "accepted": ticket is not None,
                },
            )
        ]

    # --- reading the citizen's words ----------------------------------------------------------

    def _service_in(self, message: CareMessage) -> str | None:
        """The first catalogue service the message names (typed or chosen)."""
        for entity in message.understanding.entities:
            if entity.type == "service" and self.catalogue.get(entity.value) is not None:
                return entity.value
        return None

    def _agency_in(self, text: str, *, story: bool = False) -> Agency | None:
        """An agency named in free text: by its id or its short name ("samsat", "bpn").
        In a ``story``, names that are also common words ("pos satpam") do not count."""
        folded = folded_text(text)
        for agency in self.catalogue.agencies.values():
            if story and agency.id in STORY_AMBIGUOUS_AGENCIES:
                continue
            short = folded_text(agency.short.split("(")[0]) if agency.short else ""
            names = {agency.id.replace("_", " "), short}
            if short and len(short.split()[0]) >= 4:
                names.add(short.split()[0])
            if any(name and has_phrase(folded, name) for name in names):
                return agency
        return None

    @staticmethod
    def _keep_files(flow: dict[str, Any], message: CareMessage) -> int:
        """Keep the message's attachments on the flow; how many were kept."""
        kept: list[dict[str, Any]] = flow["attachments"]
        room = MAX_ATTACHMENTS - len(kept)
        new = [dict(a) for a in message.attachments][: max(0, room)]
        kept.extend(new)
        return len(new)

    # --- the engine's frame protocol (hub.dialogs.frames.Flow) -----------------------------

    state_key = STATE

    async def reask(
        self, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """The pending question again (after a digression, small talk, a miss)."""
        flow = state.get(STATE)
        if not isinstance(flow, dict):
            return [self.menu()]
        return await self._next(flow, state, locale, context)

    def describe(self, state: dict[str, Any], locale: str) -> dict[str, Any]:
        """ "pengaduan tentang Paspor", "apresiasi" (templates word it). Only a catalogue
        service or agency is named, never the citizen's own words."""
        flow = state.get(STATE)
        flow = flow if isinstance(flow, dict) else {}
        service_id = str(flow.get("service") or "")
        about = ""
        if self.catalogue.get(service_id) is not None or flow.get("agency"):
            about = self._about({**flow, "category": ""}, locale)
        return {
            "flow": "care",
            "kind": str(flow.get("kind") or TicketKind.COMPLAINT.value),
            "service": about,
            "service_id": service_id,
        }

    def cancel(self, state: dict[str, Any]) -> list[Reply]:
        """Leave on the citizen's word: nothing filed, and the menu."""
        flow = state.pop(STATE, None)
        kind = flow.get("kind") if isinstance(flow, dict) else TicketKind.COMPLAINT.value
        return [Reply("care_left", {"kind": kind}), self.menu()]

    def cancel_is_answer(self, state: dict[str, Any], text: str) -> bool:
        """ "ga usah" asked for photos, the time and place or the service: skip it."""
        flow = state.get(STATE)
        optional = ("attachments", "when_where", "service", "service_text")
        return isinstance(flow, dict) and flow.get("stage") in optional and soft_cancel(text)

    @staticmethod
    def in_own_words(state: dict[str, Any]) -> bool:
        """Whether the question under way is answered in the citizen's own words (the story,
        the service, the time and place): any message there is its answer, even one that
        sounds like another request ("saya sudah berhenti langganan tapi tetap dikirimi")."""
        flow = state.get(STATE)
        return isinstance(flow, dict) and flow.get("stage") in FREE_TEXT_STAGES

    async def status(
        self, understanding: Parse, state: dict[str, Any], locale: str, context: DialogContext
    ) -> list[Reply]:
        """ "status pengaduan saya?" asked mid-flow: the tickets; the flow stays."""
        return await self._status(CareMessage(understanding, ()), state, locale, context)
