"""EventBridge scheduled rules (``events.Schedule.rate``/``cron``) firing on the virtual clock.

A rule with a ``ScheduleExpression`` on the default bus fires while the clock moves (the
drain loop stepping to the next deadline, or ``LocalCloud.advance``): a ``rate(N unit)`` rule
every N units after it was created, a ``cron(...)`` rule at every matching minute (UTC). Each
firing sends EventBridge's ``Scheduled Event`` (``source`` ``aws.events``, ``resources`` the
rule's ARN, ``time`` the scheduled minute) to the rule's targets as ``events.deliver`` does
for matched events (a Lambda target gets an asynchronous invocation). Disabled rules do not
fire; a rule disabled and enabled again goes on from where the clock is. Schedules are not
pending work: ``drain`` stops when nothing else is due, whatever a schedule would do later.

AWS cron fields (minutes, hours, day-of-month, month, day-of-week, year) with ``*``, ``?``,
lists, ranges, steps and names are understood; ``L``, ``W`` and ``#`` are not, and such a
rule never fires locally (``unsupported`` names it).
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.events.models import Rule, events_backends

from serverless_patterns.local.clock import VirtualClock

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {
    m: i
    for i, m in enumerate(["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], start=1)
}
_DAYS = {d: i for i, d in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"], start=1)}
_SEARCH_MINUTES = 366 * 24 * 60 * 5  # a cron with no match within five years never fires


class UnsupportedScheduleError(ValueError):
    """A schedule expression the local cloud cannot evaluate."""


def _field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> frozenset[int]:
    """The values a cron field allows."""
    if text in ("*", "?"):
        return frozenset(range(low, high + 1))
    original = text
    text = re.sub(
        r"[A-Za-z]{3}",
        lambda m: str(names[m.group().upper()]) if names and m.group().upper() in names else m.group(),
        text,
    )
    if re.search(r"[A-Za-z#]", text):
        raise UnsupportedScheduleError(f"cron field {original!r}: L, W and # are not evaluated locally")
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            first, last = low, high
        elif "-" in part:
            first_text, last_text = part.split("-", 1)
            first, last = int(first_text), int(last_text)
        else:
            first = int(part)
            last = high if step > 1 or "/" in original else first
        values.update(range(first, last + 1, step))
    if not values or min(values) < low or max(values) > high:
        raise UnsupportedScheduleError(f"cron field {original!r} is outside {low}..{high}")
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    """An AWS cron expression: ``minutes hours day-of-month month day-of-week year``."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 1 = Sunday, as AWS numbers them
    years: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, body: str) -> Cron:
        """From the text between ``cron(`` and ``)``."""
        fields = body.split()
        if len(fields) != 6:
            raise UnsupportedScheduleError(f"cron({body}) needs six fields")
        minutes, hours, days, months, weekdays, years = fields
        return cls(
            minutes=_field(minutes, 0, 59),
            hours=_field(hours, 0, 23),
            days=_field(days, 1, 31),
            months=_field(months, 1, 12, _MONTHS),
            weekdays=_field(weekdays, 1, 7, _DAYS),
            years=_field(years, 1970, 2199),
            any_day=days in ("*", "?"),
            any_weekday=weekdays in ("*", "?"),
        )

    def matches(self, moment: datetime.datetime) -> bool:
        """Whether the minute of ``moment`` (UTC) is one of the schedule's."""
        weekday = moment.isoweekday() % 7 + 1  # Monday=1..Sunday=7 -> Sunday=1..Saturday=7
        if self.any_day and self.any_weekday:
            day_ok = True
        elif self.any_day:
            day_ok = weekday in self.weekdays
        elif self.any_weekday:
            day_ok = moment.day in self.days
        else:
            day_ok = moment.day in self.days or weekday in self.weekdays
        return (
            day_ok
            and moment.minute in self.minutes
            and moment.hour in self.hours
            and moment.month in self.months
            and moment.year in self.years
        )

    def next_after(self, wall_seconds: float) -> float | None:
        """The first matching minute strictly after ``wall_seconds`` (Unix seconds), if any within five years."""
        moment = datetime.datetime.fromtimestamp(wall_seconds // 60 * 60, datetime.UTC)
        for _ in range(_SEARCH_MINUTES):
            moment += datetime.timedelta(minutes=1)
            if moment.month not in self.months or moment.year not in self.years:
                continue
            if self.matches(moment):
                return moment.timestamp()
        return None


@dataclass
class _Schedule:
    """One scheduled rule as the scheduler tracks it."""

    rule_arn: str
    expression: str
    anchor: float  # virtual seconds: when the scheduler first saw the rule enabled
    last: float  # virtual seconds: the last firing (or the anchor)
    firings: list[float] = field(default_factory=list)


Deliver = Callable[[Rule, dict[str, Any]], None]


class Scheduler:
    """Fires every enabled scheduled rule of the cloud at its times on the virtual clock."""

    def __init__(self, clock: VirtualClock, *, account_id: str, region: str, deliver: Deliver) -> None:
        self.clock = clock
        self.account_id = account_id
        self.region = region
        self.deliver = deliver
        self.unsupported: dict[str, str] = {}  # rule ARN -> why it never fires locally
        self._schedules: dict[str, _Schedule] = {}

    def _rules(self) -> Iterator[Rule]:
        backend = events_backends[self.account_id][self.region]
        for bus in list(backend.event_buses.values()):
            for rule in list(bus.rules.values()):
                if rule.scheduled_expression:
                    yield rule

    def _tracked(self) -> list[tuple[Rule, _Schedule]]:
        """The enabled scheduled rules, tracked from the first time they are seen enabled."""
        now, found = self.clock.now(), []
        enabled = set()
        for rule in self._rules():
            if rule.state != "ENABLED" or rule.arn in self.unsupported:
                continue
            enabled.add(rule.arn)
            schedule = self._schedules.get(rule.arn)
            if schedule is None or schedule.expression != rule.scheduled_expression:
                schedule = _Schedule(rule.arn, str(rule.scheduled_expression), now, now)
                self._schedules[rule.arn] = schedule
            found.append((rule, schedule))
        for arn in set(self._schedules) - enabled:  # disabled or deleted: starts afresh when enabled
            del self._schedules[arn]
        return found

    def _next(self, schedule: _Schedule) -> float | None:
        """The schedule's next firing after its last one (virtual seconds)."""
        expression = schedule.expression.strip()
        try:
            rate = _RATE.match(expression)
            if rate:
                period = int(rate.group(1)) * _UNIT_SECONDS[rate.group(2).rstrip("s")]
                if period <= 0:
                    raise UnsupportedScheduleError(f"{expression}: the rate must be positive")
                return schedule.last + period
            cron = _CRON.match(expression)
            if cron:
                after = Cron.parse(cron.group(1)).next_after(self.clock.epoch + schedule.last)
                return None if after is None else self.clock.at(after)
            raise UnsupportedScheduleError(f"{expression}: not a rate() or cron() expression")
        except UnsupportedScheduleError as error:
            self.unsupported[schedule.rule_arn] = str(error)
            return None

    def next_due(self) -> float | None:
        """When the next scheduled rule fires (virtual seconds), if any rule is scheduled."""
        due = [t for _, schedule in self._tracked() if (t := self._next(schedule)) is not None]
        return min(due, default=None)

    def fire_due(self) -> int:
        """Fire every rule whose time has come (each missed occurrence once, in order); how many firings."""
        now, fired = self.clock.now(), 0
        for rule, schedule in self._tracked():
            while (due := self._next(schedule)) is not None and due <= now:
                schedule.last = due
                schedule.firings.append(due)
                self.deliver(rule, self._event(rule, due))
                fired += 1
        return fired

    def firings(self, rule_arn: str) -> list[float]:
        """When the rule fired (virtual seconds), since it was last enabled."""
        schedule = self._schedules.get(rule_arn)
        return list(schedule.firings) if schedule else []

    def _event(self, rule: Rule, due: float) -> dict[str, Any]:
        moment = datetime.datetime.fromtimestamp(self.clock.epoch + due, datetime.UTC)
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.account_id,
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": [rule.arn],
            "detail": {},
        }
