"""From the grouped rows of ``hub.store.transparency`` to the figures of each period.

Pure functions, no database and no wording: :func:`tally` adds the rows up per agency,
service, channel and hour band with the CARE working days; :func:`publish` applies the
small-count rule (``hub.trust.small_counts``) so that what leaves this module may be
shown to anyone.

Every ticket figure is about the complaints *received* in the period, so the figures of
one period are about one set of complaints:

- checked in time: of those verified (or rejected) or still waiting past their deadline,
  the share that left ``received`` by the end of the N-th working day
  (``care.verify_within_days``);
- resolved within the SLA: of those resolved or late (a deadline missed at some stage),
  the share resolved with no deadline missed; rejected ones are not counted;
- time to resolve: working days from the day received to the day resolved (0 = the same
  day), for the resolved ones.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hub.care.sla import WorkingDays
from hub.store.transparency import BookingGroup, ChannelGroup, HourGroup, TicketGroup, Window
from hub.trust import small_counts as rule
from hub.trust.small_counts import Shown

RECENT_DAYS = 30
RECENT, YEAR = "last_30_days", "this_year"
PERIODS = (RECENT, YEAR)
"""The last 30 days and this year, in the order the page offers them."""
BAND_HOURS = 3
BANDS = tuple(range(0, 24, BAND_HOURS))
"""The first hour of each band of the busy-times grid: 00–03, 03–06, … 21–24."""
SETTLED_BOOKINGS = ("checked_in", "served", "no_show")
"""A booking whose day came and went: the base of the no-show rate."""


def window(today: date, offset_hours: int) -> Window:
    """The last 30 WITA days (today included) and this year, both ending today."""
    return Window(
        recent_first=today - timedelta(days=RECENT_DAYS - 1),
        year_first=today.replace(month=1, day=1),
        today=today,
        offset_hours=offset_hours,
    )


def period_first(win: Window, period: str) -> date:
    return win.recent_first if period == RECENT else win.year_first


def _in(period: str, recent: bool, this_year: bool) -> bool:
    return recent if period == RECENT else this_year


# --- tallies: exact, never shown as they are ------------------------------------------------


@dataclass(slots=True)
class AgencyTally:
    complaints: int = 0
    appreciations: int = 0
    checkable: int = 0
    checked_in_time: int = 0
    settled: int = 0
    resolved_in_time: int = 0
    resolve_days: Counter[int] = field(default_factory=Counter)
    rating_sum: int = 0
    ratings: int = 0


@dataclass(slots=True)
class ServiceTally:
    bookings: int = 0
    settled: int = 0
    no_shows: int = 0


@dataclass(slots=True)
class PeriodTally:
    agencies: dict[str | None, AgencyTally] = field(default_factory=dict)
    services: dict[str, ServiceTally] = field(default_factory=dict)
    channels: Counter[str] = field(default_factory=Counter)
    busy: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(weekday, first hour of the band) -> messages."""


@dataclass(frozen=True, slots=True)
class Tallies:
    window: Window
    periods: dict[str, PeriodTally]


def working_days_between(days: WorkingDays, first: date, last: date) -> int:
    """Working days after ``first`` up to and including ``last`` (0 on the same day)."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        if days.is_working_day(day):
            count += 1
    return count


def _add_tickets(
    tally: PeriodTally,
    groups: Iterable[TicketGroup],
    days: WorkingDays,
    verify_days: int,
    today: date,
) -> None:
    deadlines: dict[date, date] = {}
    spans: dict[tuple[date, date], int] = {}
    for group in groups:
        agency = tally.agencies.setdefault(group.agency, AgencyTally())
        agency.rating_sum += group.rating_sum
        agency.ratings += group.ratings
        if group.kind == "appreciation":
            agency.appreciations += group.tickets
            continue
        if group.kind != "complaint":
            continue
        agency.complaints += group.tickets
        received = group.received_day
        if received not in deadlines:
            deadlines[received] = _nth_working_day(days, received, verify_days)
        deadline = deadlines[received]
        if group.checked_day is not None or today > deadline:
            agency.checkable += group.tickets
            if group.checked_day is not None and group.checked_day <= deadline:
                agency.checked_in_time += group.tickets
        if group.resolved_day is not None or group.late:
            agency.settled += group.tickets
            if group.resolved_day is not None and not group.late:
                agency.resolved_in_time += group.tickets
        if group.resolved_day is not None:
            span = (received, group.resolved_day)
            if span not in spans:
                spans[span] = working_days_between(days, *span)
            agency.resolve_days[spans[span]] += group.tickets


def _nth_working_day(days: WorkingDays, start: date, n: int) -> date:
    day = start
    for _ in range(n):
        day = days.next_working_day(day)
    return day


def tally(
    win: Window,
    tickets: Sequence[TicketGroup],
    bookings: Sequence[BookingGroup],
    channels: Sequence[ChannelGroup],
    hours: Sequence[HourGroup],
    days: WorkingDays,
    verify_days: int,
) -> Tallies:
    """The exact figures of both periods, from the grouped rows."""
    periods: dict[str, PeriodTally] = {}
    for period in PERIODS:
        current = PeriodTally()
        _add_tickets(
            current,
            (g for g in tickets if _in(period, g.recent, g.this_year)),
            days,
            verify_days,
            win.today,
        )
        for b in bookings:
            if not _in(period, b.recent, b.this_year):
                continue
            service = current.services.setdefault(b.service_id, ServiceTally())
            service.bookings += b.bookings
            if b.status in SETTLED_BOOKINGS:
                service.settled += b.bookings
            if b.status == "no_show":
                service.no_shows += b.bookings
        for c in channels:
            if _in(period, c.recent, c.this_year):
                current.channels[c.channel] += c.conversations
        for h in hours:
            if _in(period, h.recent, h.this_year):
                current.busy[h.weekday, h.hour - h.hour % BAND_HOURS] += h.messages
        periods[period] = current
    return Tallies(win, periods)


# --- published: what anyone may see ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PublicAgency:
    agency: str | None
    """The agency's id in the catalogue; None for tickets not tied to an agency."""
    complaints: Shown
    checked_in_time: float | None
    """Share (0 to 1) checked within the deadline; None from fewer than 5 complaints."""
    resolved_in_time: float | None
    median_days_to_resolve: float | None
    """Working days; None from fewer than 5 resolved complaints."""
    rating: float | None
    ratings: Shown
    appreciations: Shown


@dataclass(frozen=True, slots=True)
class PublicService:
    service_id: str
    bookings: Shown
    no_show_rate: float | None


@dataclass(frozen=True, slots=True)
class PublicPeriod:
    key: str
    first: date
    last: date
    agencies: list[PublicAgency]
    services: list[PublicService]
    channels: list[tuple[str, Shown]]
    busy: dict[tuple[int, int], Shown]
    """(weekday, first hour of the band) -> messages, every cell of the grid."""


@dataclass(frozen=True, slots=True)
class Published:
    taken_at: datetime
    today: date
    verify_days: int
    periods: dict[str, PublicPeriod]


def _pair(win: Window, recent: int, year: int) -> tuple[Shown, Shown]:
    """The two periods' counts of one figure by the rule; the longer one is the outer."""
    if win.year_first <= win.recent_first:
        shown_year, shown_recent = rule.nested(year, recent)
    else:
        shown_recent, shown_year = rule.nested(recent, year)
    return shown_recent, shown_year


def _pairs(win: Window, recent: int, year: int) -> dict[str, Shown]:
    shown_recent, shown_year = _pair(win, recent, year)
    return {RECENT: shown_recent, YEAR: shown_year}


def publish(
    tallies: Tallies, agencies: Sequence[str], verify_days: int, taken_at: datetime
) -> Published:
    """The figures as the page may show them; ``agencies`` (the catalogue's, in its order)
    are listed even without tickets, then any other agency that has some."""
    win = tallies.window
    recent, year = tallies.periods[RECENT], tallies.periods[YEAR]
    listed: list[str | None] = list(agencies)
    for extra in sorted({a for p in (recent, year) for a in p.agencies if a is not None}):
        if extra not in listed:
            listed.append(extra)
    if any(None in p.agencies for p in (recent, year)):
        listed.append(None)
    public_agencies: dict[str, list[PublicAgency]] = defaultdict(list)
    for agency in listed:
        one = {p: tallies.periods[p].agencies.get(agency, AgencyTally()) for p in PERIODS}
        complaints = _pairs(win, one[RECENT].complaints, one[YEAR].complaints)
        ratings = _pairs(win, one[RECENT].ratings, one[YEAR].ratings)
        thanks = _pairs(win, one[RECENT].appreciations, one[YEAR].appreciations)
        for period in PERIODS:
            t = one[period]
            public_agencies[period].append(
                PublicAgency(
                    agency=agency,
                    complaints=complaints[period],
                    checked_in_time=rule.share(t.checked_in_time, t.checkable),
                    resolved_in_time=rule.share(t.resolved_in_time, t.settled),
                    median_days_to_resolve=rule.median(dict(t.resolve_days)),
                    rating=rule.average(t.rating_sum, t.ratings),
                    ratings=ratings[period],
                    appreciations=thanks[period],
                )
            )
    public_services: dict[str, list[PublicService]] = defaultdict(list)
    for service_id in sorted({s for p in (recent, year) for s in p.services}):
        one_s = {p: tallies.periods[p].services.get(service_id, ServiceTally()) for p in PERIODS}
        booked = _pairs(win, one_s[RECENT].bookings, one_s[YEAR].bookings)
        for period in PERIODS:
            s = one_s[period]
            if s.bookings:
                public_services[period].append(
                    PublicService(service_id, booked[period], rule.share(s.no_shows, s.settled))
                )
    public_channels: dict[str, list[tuple[str, Shown]]] = defaultdict(list)
    for channel in sorted({c for p in (recent, year) for c in p.channels}):
        shown = _pairs(win, recent.channels[channel], year.channels[channel])
        for period in PERIODS:
            if tallies.periods[period].channels[channel]:
                public_channels[period].append((channel, shown[period]))
    busy: dict[str, dict[tuple[int, int], Shown]] = defaultdict(dict)
    for weekday in range(7):
        for band in BANDS:
            shown = _pairs(win, recent.busy[weekday, band], year.busy[weekday, band])
            for period in PERIODS:
                busy[period][weekday, band] = shown[period]
    return Published(
        taken_at=taken_at,
        today=win.today,
        verify_days=verify_days,
        periods={
            period: PublicPeriod(
                key=period,
                first=period_first(win, period),
                last=win.today,
                agencies=public_agencies[period],
                services=public_services[period],
                channels=public_channels[period],
                busy=busy[period],
            )
            for period in PERIODS
        },
    )
