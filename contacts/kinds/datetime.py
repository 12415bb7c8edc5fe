"""Date-times: ISO 8601 in; stored as ``YYYY-MM-DD`` or UTC ``YYYY-MM-DDTHH:MM:SSZ``.

Stored strings always have four-digit years (``0999-05-05``) and whole seconds, so that they
sort chronologically as text, which is how trait filters compare them. People see them in
their own zone with the zone named (``2024-10-31 19:30 IST``); a moment that has no local
time in that zone (the ends of the calendar) is shown in UTC instead of failing.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from contacts.kinds.base import IS_SET, NOT_SET, CoercionError, Kind, Operator, register
from contacts.kinds.number import parse_number
from contacts.kinds.widgets import DateTimeZoneWidget

if TYPE_CHECKING:
    from contacts.kinds.base import FieldLike

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
    r"(Z|[+-]\d{2}(:?\d{2}(:?\d{2}(\.\d{1,6})?)?)?)?$",
    re.IGNORECASE,
)
ISO_HINT = "expected an ISO date like 2024-10-31 or 2024-10-31T14:00:00Z"
MAX_DAYS = 100 * 366
# Sorts after every stored date string ("9999-12-31T23:59:59Z" included); not a real date.
AFTER_EVERY_DATE = "9999-12-32"


def stored_utc(moment: datetime) -> str:
    """An aware moment as stored: UTC, whole seconds, four-digit year (``strftime`` would
    write year 999 as ``999``, which sorts after ``2024``)."""
    utc = moment.astimezone(UTC).replace(microsecond=0, tzinfo=None)
    return utc.isoformat(timespec="seconds") + "Z"


def parse_datetime(value: Any, *, label: str) -> str:
    """A date and time without an offset is taken as UTC; fractions of a second are dropped."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return value.isoformat()
    elif isinstance(value, str):
        text = value.strip()
        if _DATE_RE.match(text):
            try:
                return date.fromisoformat(text).isoformat()
            except ValueError:
                raise CoercionError(label, value, "not a real date") from None
        if not _DATETIME_RE.match(text):
            raise CoercionError(label, value, ISO_HINT)
        try:
            parsed = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            raise CoercionError(label, value, "not a real date and time") from None
    else:
        raise CoercionError(label, value, "expected an ISO date or date and time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return stored_utc(parsed)
    except OverflowError:
        # e.g. 9999-12-31T23:59:59-05:00 is in the year 10000 in UTC.
        raise CoercionError(label, value, "year out of range (0001 to 9999 in UTC)") from None


def parse_stored(value: Any) -> date | datetime | None:
    """A stored value (``YYYY-MM-DD``, UTC ``...Z`` or a model datetime), else ``None``."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def local_moment(moment: datetime, tz: tzinfo) -> tuple[datetime, str]:
    """``moment`` in ``tz`` and the zone's name there; in UTC when ``tz`` has no such time."""
    try:
        local = moment.astimezone(tz)
        return local, local.tzname() or ""
    except (OverflowError, ValueError):
        return moment.astimezone(UTC), "UTC"


def _bound(field: FieldLike, value: str) -> Any:
    """A stored datetime string as the field's comparable: text for traits, aware for columns
    (a date there is a day of the site's zone, whoever is viewing)."""
    if not field.builtin:
        return value
    if value == AFTER_EVERY_DATE:
        return datetime.max.replace(tzinfo=UTC)
    if len(value) == 10:
        day = datetime.combine(date.fromisoformat(value), time.min)
        moment = timezone.make_aware(day, timezone.get_default_timezone())
        try:
            return moment.astimezone(UTC)
        except OverflowError:  # midnight of 0001-01-01 east of UTC is before the calendar
            return datetime.min.replace(tzinfo=UTC)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _day_after(value: str) -> str:
    try:
        return (date.fromisoformat(value[:10]) + timedelta(days=1)).isoformat()
    except OverflowError:
        return AFTER_EVERY_DATE


class DateTimeZoneField(forms.Field):
    """The editor's date, time and zone. An empty time gives a date-only value; a time is
    converted from its zone (the viewer's unless chosen) to UTC, the stored form."""

    def __init__(self, *, label: str, zone: zoneinfo.ZoneInfo) -> None:
        self.zone = zone
        super().__init__(label=label, required=False, widget=DateTimeZoneWidget(label))

    def to_python(self, value: Any) -> str | None:
        parts = [str(v or "").strip() for v in [*(value or []), "", "", ""][:3]]
        day, clock, zone_name = parts[0], parts[1], parts[2] or self.zone.key
        if not day and not clock:
            return None
        if not day:
            raise ValidationError(f"{self.label}: enter a date for the time {clock}")
        try:
            parsed_day = date.fromisoformat(day)
        except ValueError:
            raise ValidationError(f'{self.label}: not a real date (got "{day}")') from None
        if not clock:
            return parsed_day.isoformat()
        try:
            parsed_time = time.fromisoformat(clock)
        except ValueError:
            raise ValidationError(f'{self.label}: not a real time (got "{clock}")') from None
        try:
            zone = zoneinfo.ZoneInfo(zone_name)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            raise ValidationError(
                f'Time zone: unknown zone "{zone_name}" (e.g. Asia/Kolkata)'
            ) from None
        local = datetime.combine(parsed_day, parsed_time.replace(tzinfo=None), tzinfo=zone)
        try:
            return stored_utc(local)
        except OverflowError:
            raise ValidationError(
                f"{self.label}: year out of range (0001 to 9999 in UTC)"
            ) from None


@register
class DateTimeKind(Kind):
    name = "datetime"
    ordered_index = True
    inference_rank = 4
    filter_placeholder = "2024-10-31"
    operators: ClassVar[tuple[Operator, ...]] = (
        Operator("before", "before", value_kind="date"),
        Operator("after", "after", value_kind="date"),
        Operator("on", "on", value_kind="date"),
        Operator("between", "between", 2, "date"),
        Operator("last_days", "in the last N days", value_kind="days"),
        Operator("older_days", "more than N days ago", value_kind="days"),
        IS_SET,
        NOT_SET,
    )

    def to_python(self, value: Any, *, label: str, list_separator: str) -> str:
        return parse_datetime(value, label=label)

    def text_for_people(self, value: Any, tz: tzinfo) -> str:
        parsed = parse_stored(value)
        if isinstance(parsed, datetime):
            local, zone_name = local_moment(parsed, tz)
            return f"{local.date().isoformat()} {local:%H:%M} {zone_name}"
        if isinstance(parsed, date):
            return parsed.isoformat()
        return str(value)

    def export(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return stored_utc(value if value.tzinfo else value.replace(tzinfo=UTC))
        return str(value)

    def formfield(self, field: FieldLike) -> forms.Field:
        return forms.CharField(
            label=field.label,
            required=False,
            widget=forms.TextInput({"placeholder": "2024-10-31 or 2024-10-31T14:00Z"}),
        )

    def editor_formfield(self, field: FieldLike, tz: zoneinfo.ZoneInfo) -> forms.Field:
        return DateTimeZoneField(label=field.label, zone=tz)

    def editor_initial(self, value: Any, tz: zoneinfo.ZoneInfo) -> Any:
        parsed = parse_stored(value) if value not in (None, "") else None
        if isinstance(parsed, datetime):
            local, _ = local_moment(parsed, tz)
            return [local.date().isoformat(), f"{local:%H:%M}", getattr(local.tzinfo, "key", "UTC")]
        if isinstance(parsed, date):
            return [parsed.isoformat(), "", tz.key]
        return ["", "", tz.key]

    def filter_value(self, field: FieldLike, operator: Operator, raw: str) -> Any:
        if operator.value_kind == "days":
            days = parse_number(raw, label=field.label)
            if not isinstance(days, int) or not 0 <= days <= MAX_DAYS:
                raise CoercionError(
                    field.label, raw, f"expected a whole number of days up to {MAX_DAYS}"
                )
            return days
        return parse_datetime(raw, label=field.label)

    def condition(self, field: FieldLike, op: str, values: tuple[Any, ...]) -> Q:
        cmp = functools.partial(self.compare, field)
        if op in ("last_days", "older_days"):
            today = timezone.localdate(timezone=timezone.get_default_timezone())
            since = today - timedelta(days=values[0])
            bound = _bound(field, since.isoformat())
            return cmp("gte" if op == "last_days" else "lt", bound)
        if op == "between":
            start, end = values
            upper = (
                cmp("lt", _bound(field, _day_after(end)))
                if len(end) == 10
                else cmp("lte", _bound(field, end))
            )
            return cmp("gte", _bound(field, start)) & upper
        value = values[0] if values else ""
        if op == "on":
            day = value[:10]
            start, end = _bound(field, day), _bound(field, _day_after(day))
            return cmp("gte", start) & cmp("lt", end)
        if op == "before":
            return cmp("lt", _bound(field, value))
        if op == "after":
            if len(value) == 10:
                return cmp("gte", _bound(field, _day_after(value)))
            return cmp("gt", _bound(field, value))
        return super().condition(field, op, values)

    def fits_json(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            parse_datetime(value, label="value")
        except CoercionError:
            return False
        return True
