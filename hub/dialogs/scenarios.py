"""Dialog scenarios: whole conversations written as data, played against the hub.

A scenario file is YAML holding a list of scenarios::

    - name: booking ktp besok on the web chat and SMS
      channel: [webchat, sms]        # one of webchat, sms, whatsapp, or a list of them
      locale: id                     # optional: the language the citizen writes (id, en)
      clock: 2026-11-30T08:00        # optional: the hub's "now", a WITA (UTC+8) date-time
      turns:
        - say: antri ktp besok pagi atas nama Made Sudiarta NIK 5103011204850001
          expect: ['Selasa, 1 Desember 2026', 'sesi pagi']
          not_expect: ['belum memahami']
        - say: ya
          expect: ['Kode']
        - say: halo
          after: 31m                 # optional: let the hub's clock move on first (s, m, h, d)
          expect: ['Halo']
      end_state:                     # optional: checked in the database afterwards
        conversation: {status: bot}
        bookings: [{service_id: ktp_el_baru, status: booked, applicant_nik_set: true}]
        tickets: []                  # or [{kind: complaint, priority: high, object: officer}]
        subscriptions: [{topic: imigrasi, channel: sms}]
        consents: [{action: subscribe, topic: imigrasi, source: chat, words: '^langganan'}]

Matching rule (one, for every turn): the bot's replies to a turn are joined into one
text (each reply's text, then its buttons' titles one per line). Every ``expect``
pattern must be found *anywhere* in that text (``re.search``, case-insensitive,
``^``/``$`` at each line, order not checked); no ``not_expect`` pattern may be
found. A turn whose ``expect`` is empty still waits for at least one reply.

``end_state`` lists what the database holds once the conversation is over: the
conversation's fields, and *exactly* the bookings, tickets, subscriptions and consent
records listed (each listed item matches a different row on the fields it names;
``bookings: []`` means none). A consent record's ``words`` is a pattern (the citizen's
message, with a chosen button's payload after it), matched like ``expect``.
Only the fields below may be named, so a typo is an error rather than a check that
always passes. Against a running hub (``omnihub dialogs test``) only the replies are
checked; end_state is reported as skipped there.

``after`` moves the hub's clock forward before a turn (``90s``, ``31m``, ``2h``,
``1h30m``, ``1d``): an idle flow timing out, a reminder's hour. The test suite moves
its clock; a running hub's clock cannot be moved, so ``omnihub dialogs test`` plays
the turn at once and says so after the scenario's line ("after ignored").

This module is pure: the format, loading, and matching. Who plays the turns (the
test suite through the real app, the CLI over HTTP) supplies the replies and the rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

SCENARIO_ZONE = ZoneInfo("Asia/Makassar")
"""Scenario clocks are WITA by definition of the format (the files' dates and times were
written for MPP Badung), whatever ``server.timezone`` the hub runs with."""
# A Monday morning: "besok" is Tuesday 1 December, and the dates offered never move.
DEFAULT_CLOCK = datetime(2026, 11, 30, 8, 0, tzinfo=SCENARIO_ZONE)

# Case-insensitive; ^ and $ match at each line (a reply line, a button title).
FLAGS = re.IGNORECASE | re.MULTILINE

Channel = Literal["webchat", "sms", "whatsapp"]


class ScenarioError(Exception):
    """A scenario file that cannot be used; the message names the file, scenario and field."""


def _pattern(value: Any) -> Any:
    if isinstance(value, str):
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {value!r} ({exc})") from None
    return value


Pattern = Annotated[str, BeforeValidator(_pattern)]


def _channels(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _scenario_clock(value: Any) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise ValueError("write the clock as a WITA date-time without a zone")
        return value.replace(tzinfo=SCENARIO_ZONE)
    return value


_DURATION = re.compile(r"(\d+)\s*([smhd])")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: Any) -> Any:
    """ "31m", "2h", "1h30m", "90s", "1d" as a timedelta."""
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError("write a duration such as 90s, 31m, 2h, 1h30m or 1d")
        total = timedelta()
        for number, unit in parts:
            total += timedelta(**{_UNIT[unit]: int(number)})
        return total
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), Field(gt=timedelta(0))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Turn(_Strict):
    say: str = Field(min_length=1)
    after: Duration | None = None
    """Time passing on the hub's clock before this turn is said."""
    expect: list[Pattern] = []
    not_expect: list[Pattern] = []


class ConversationExpect(_Strict):
    status: str | None = None
    channel: str | None = None


class BookingExpect(_Strict):
    service_id: str | None = None
    status: str | None = None
    session: str | None = None
    channel: str | None = None
    applicant_name: str | None = None
    """Who comes to the counter, as the booking stores the name."""
    applicant_nik_set: bool | None = None
    """Whether the booking holds the applicant's NIK (encrypted; never compared in clear)."""


class TicketExpect(_Strict):
    kind: str | None = None
    status: str | None = None
    confidential: bool | None = None
    agency: str | None = None
    service_id: str | None = None
    channel: str | None = None
    anonymous: bool | None = None
    needs_supervisor: bool | None = None
    """Escalated: a breached deadline, a low rating, the citizen's request when late."""
    priority: str | None = None
    """high (bribery) or normal."""
    object: str | None = None
    """What a complaint is about: facility, counter, officer or service."""


class SubscriptionExpect(_Strict):
    topic: str | None = None
    channel: str | None = None
    """Where the announcements go: the channel the citizen subscribed on."""


class ConsentExpect(_Strict):
    action: Literal["subscribe", "unsubscribe"] | None = None
    topic: str | None = None
    """None in the database for "every topic at once" (STOP): write ``all``."""
    channel: str | None = None
    source: str | None = None
    """chat, sms_stop, ..."""
    words: Pattern | None = None
    """A pattern the recorded words must match (re.search, case-insensitive)."""


class EndState(_Strict):
    conversation: ConversationExpect | None = None
    bookings: list[BookingExpect] | None = None
    tickets: list[TicketExpect] | None = None
    subscriptions: list[SubscriptionExpect] | None = None
    consents: list[ConsentExpect] | None = None


class Scenario(_Strict):
    name: str = Field(min_length=1)
    channel: Annotated[list[Channel], BeforeValidator(_channels), Field(min_length=1)]
    locale: Literal["id", "en"] = "id"
    clock: Annotated[datetime, BeforeValidator(_scenario_clock)] = DEFAULT_CLOCK
    turns: list[Turn] = Field(min_length=1)
    end_state: EndState | None = None


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key written twice in one mapping: YAML would keep
    the last silently, and a second ``not_expect`` would drop the first one's checks."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} written twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_scenarios(path: Path) -> list[Scenario]:
    """Every scenario of ``path``, or ScenarioError naming the file, scenario and field."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    if not isinstance(data, list) or not data:
        raise ScenarioError(f"{path}: expected a list of scenarios")
    scenarios: list[Scenario] = []
    for index, item in enumerate(data):
        label = f"scenario {index + 1}"
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" ({item['name']!r})"
        try:
            scenarios.append(Scenario.model_validate(item))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"]) or "(scenario)"
            raise ScenarioError(f"{path}: {label}: {field}: {error['msg']}") from None
    names = [s.name for s in scenarios]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ScenarioError(f"{path}: scenario names used twice: {', '.join(twice)}")
    return scenarios


@dataclass(frozen=True)
class Reply:
    """One bot message as the citizen sees it: its text and its buttons' titles."""

    text: str
    choices: tuple[str, ...] = ()


def turn_text(replies: Sequence[Reply]) -> str:
    """The text a turn's patterns are matched against."""
    parts = [r.text + "".join(f"\n{title}" for title in r.choices) for r in replies]
    return "\n\n".join(parts)


def check_turn(turn: Turn, replies: Sequence[Reply]) -> str | None:
    """Why the replies do not satisfy ``turn``, or None when they do."""
    if not replies:
        return f"no reply to {turn.say!r}"
    text = turn_text(replies)
    for pattern in turn.expect:
        if not re.search(pattern, text, FLAGS):
            return f"after {turn.say!r}: expected /{pattern}/ in {_short(text)!r}"
    for pattern in turn.not_expect:
        if re.search(pattern, text, FLAGS):
            return f"after {turn.say!r}: did not expect /{pattern}/ in {_short(text)!r}"
    return None


Row = Mapping[str, Any]


@dataclass(frozen=True)
class State:
    """What the database holds after a scenario (plain rows, filled by whoever can read it)."""

    conversation: Row | None
    bookings: Sequence[Row]
    tickets: Sequence[Row]
    subscriptions: Sequence[Row] = ()
    consents: Sequence[Row] = ()
    """Consent records, ``topic`` None read as ``all`` (every topic at once)."""


def check_end_state(expected: EndState, actual: State) -> str | None:
    """Why the database does not hold ``expected``, or None when it does."""
    if expected.conversation is not None:
        if actual.conversation is None:
            return "end_state.conversation: no conversation"
        problem = _mismatch(expected.conversation, actual.conversation)
        if problem:
            return f"end_state.conversation: {problem}"
    for name, wanted, rows in (
        ("bookings", expected.bookings, actual.bookings),
        ("tickets", expected.tickets, actual.tickets),
        ("subscriptions", expected.subscriptions, actual.subscriptions),
        ("consents", expected.consents, actual.consents),
    ):
        if wanted is None:
            continue
        problem = _match_all(wanted, rows)
        if problem:
            return f"end_state.{name}: {problem}"
    return None


def _mismatch(expected: BaseModel, row: Row) -> str | None:
    for field, value in expected.model_dump(exclude_none=True).items():
        if isinstance(expected, ConsentExpect) and field == "words":
            if not re.search(value, str(row.get(field) or ""), FLAGS):
                return f"{field} is {row.get(field)!r}, expected /{value}/"
        elif row.get(field) != value:
            return f"{field} is {row.get(field)!r}, expected {value!r}"
    return None


def _match_all(wanted: Sequence[BaseModel], rows: Sequence[Row]) -> str | None:
    if len(wanted) != len(rows):
        return f"{len(rows)} found, expected {len(wanted)}: {[dict(r) for r in rows]}"
    free = list(rows)
    for item in wanted:
        found = next((r for r in free if _mismatch(item, r) is None), None)
        if found is None:
            return f"none matches {item.model_dump(exclude_none=True)} in {[dict(r) for r in rows]}"
        free.remove(found)
    return None


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
