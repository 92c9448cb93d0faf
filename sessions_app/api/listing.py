"""Query parameters of list endpoints, and the ``items/_meta/_links`` envelope.

A parameter of the wrong form is a 400 naming it, and so is one the endpoint does not know
(a misspelt filter must not silently answer everything): ``check()`` refuses every name no
accessor has read. ``fields``, ``expand`` and ``ids`` are read by every endpoint.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from django.db.models import F, Model, Q, QuerySet

from sessions_app.enums import SessionStatus
from sessions_app.selectors import rows_of_page, sorted_after_filter, text_search
from sessions_app.wire.problems import FieldError, QueryInvalid

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 200
MAX_IDS = 100
MAX_PAGE = 10**9
# The forms a parameter's value must have. The OpenAPI document declares the same ones
# (``api.schema.PARAMETER_SCHEMAS``), so what the schema allows is what is read.
ID_FORM = r"[1-9][0-9]{0,17}"
MAX_ID = 10**18 - 1
IDS_FORM = rf"{ID_FORM}(,{ID_FORM}){{0,{MAX_IDS - 1}}}"
STATUS_FORM = "|".join(SessionStatus.values)
STATUSES_FORM = rf"({STATUS_FORM})(,({STATUS_FORM}))*"
TEXT_FORM = r"[^\x00]*"
# A whole number may come as "5.0": JSON Schema counts 5.0 as an integer, and a client
# validating against the schema may write it so.
_WHOLE = r"(\.0+)?"
_ID = re.compile(ID_FORM + _WHOLE)
_IDS = re.compile(IDS_FORM)
_STATUSES = re.compile(STATUSES_FORM)
_POSITIVE = re.compile(r"[0-9]{1,10}" + _WHOLE)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A "+" in an unencoded offset arrives as a space: "10:00:00 02:00" means "+02:00".
_SPACE_OFFSET = re.compile(r" ([0-9]{2}:?[0-9]{2})\Z")
FLAG_VALUES = ["0", "1", "true", "false"]

SESSION_SORTS = {
    "id": "id",
    "name": "name",
    "date": "date",
    "start_time": "start_time",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


class Query:
    """Reads a request's query string, collecting every error before raising one 400."""

    def __init__(self, params) -> None:
        self.params = params
        self.errors: list[FieldError] = []
        self.known: set[str] = set()
        for name, values in params.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                self.errors.append(
                    FieldError(name[:100], "invalid", "Query parameters cannot contain NUL.")
                )

    def _get(self, name: str, parse: Callable[[str], Any], message: str) -> Any:
        """``name``'s value parsed; an empty one is no value (``allowEmptyValue`` in the
        schema), as a form's empty input sends it."""
        self.known.add(name)
        raw = self.params.get(name)
        if raw is None or raw == "" or any(e.field == name for e in self.errors):
            return None
        try:
            return parse(raw)
        except ValueError:
            self.errors.append(FieldError(name, "invalid", message))
            return None

    def id(self, name: str) -> int | None:
        return self._get(name, _parse_id, f"{name} must be a positive whole number.")

    def date(self, name: str) -> dt.date | None:
        return self._get(name, _parse_date, f"{name} must be a date as YYYY-MM-DD.")

    def instant(self, name: str) -> dt.datetime | None:
        return self._get(
            name,
            _parse_instant,
            f"{name} must be an ISO 8601 date-time, e.g. 2030-06-10T08:00:00Z.",
        )

    def text(self, name: str) -> str | None:
        return self._get(name, _parse_text, f"{name} cannot contain NUL.")

    def choice(self, name: str, options: list[str]) -> str | None:
        def parse(raw: str) -> str:
            if raw not in options:
                raise ValueError(raw)
            return raw

        return self._get(name, parse, f"{name} must be one of: {', '.join(options)}.")

    def flag(self, name: str) -> bool:
        return bool(self._get(name, _parse_flag, f"{name} must be 0, 1, true or false."))

    def statuses(self, name: str) -> list[str] | None:
        allowed = ", ".join(SessionStatus.values)
        return self._get(name, _parse_statuses, f"{name} must be a comma list of: {allowed}.")

    def sort(self, name: str, fields: dict[str, str], model: type[Model]) -> list:
        """``fields`` maps each sort name to ``model``'s column."""
        options = ", ".join(fields)
        parsed = self._get(
            name,
            lambda raw: _parse_sort(raw, fields, model),
            f"{name} must be a comma list of {options}, each optionally prefixed by -.",
        )
        return parsed or [F("id").asc()]

    def page(self) -> tuple[int, int]:
        page = self._get("page", _parse_page, "page must be a whole number from 1.")
        per_page = self._get(
            "per-page",
            _parse_per_page,
            f"per-page must be a whole number from 1 to {MAX_PER_PAGE}.",
        )
        return page or 1, per_page or DEFAULT_PER_PAGE

    def names(self, name: str) -> list[str]:
        """``fields=a,b`` or ``expand=a,b``: the names, in order, without repeats."""
        parsed = self._get(
            name, _parse_names, f"{name} must be a comma list of names, e.g. id,name."
        )
        return parsed or []

    def ids(self) -> list[int] | None:
        return self._get(
            "ids",
            _parse_ids,
            f"ids must be a comma list of at most {MAX_IDS} ids, e.g. ids=1,2,3.",
        )

    def check(self) -> None:
        """Raise one 400 for every malformed and every unknown parameter."""
        for name in ("fields", "expand"):
            if name not in self.known:
                self.names(name)
        for name in self.params:
            if name not in self.known and not any(e.field == name[:100] for e in self.errors):
                self.errors.append(
                    FieldError(
                        name[:100],
                        "unknown_parameter",
                        f"{name[:100]!r} is not a parameter of this endpoint.",
                    )
                )
        if self.errors:
            raise QueryInvalid(self.errors)


def _parse_text(raw: str) -> str:
    if "\x00" in raw:
        raise ValueError(raw)
    return raw


def _parse_names(raw: str) -> list[str]:
    # Never a 400: a name the object does not have (whatever its spelling) is left out.
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def _parse_ids(raw: str) -> list[int]:
    if not _IDS.fullmatch(raw):
        raise ValueError(raw)
    return list(dict.fromkeys(int(part) for part in raw.split(",")))


def _whole(raw: str) -> int:
    return int(raw.partition(".")[0])


def _parse_id(raw: str) -> int:
    if not _ID.fullmatch(raw):
        raise ValueError(raw)
    return _whole(raw)


def _parse_date(raw: str) -> dt.date:
    if not _DATE.fullmatch(raw):
        raise ValueError(raw)
    return dt.date.fromisoformat(raw)


def _parse_instant(raw: str) -> dt.datetime:
    raw = _SPACE_OFFSET.sub(r"+\1", raw.strip())
    if len(raw) > 40:
        raise ValueError(raw)
    value = dt.datetime.fromisoformat(raw)
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    # In UTC: PostgreSQL refuses offsets beyond 15:59 that Python accepts (up to 23:59).
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # e.g. year 1 with a positive offset
        raise ValueError(raw) from None


def _parse_flag(raw: str) -> bool:
    if raw not in FLAG_VALUES:
        raise ValueError(raw)
    return raw in {"1", "true"}


def _parse_statuses(raw: str) -> list[str]:
    if not _STATUSES.fullmatch(raw):
        raise ValueError(raw)
    return list(dict.fromkeys(raw.split(",")))


def sort_form(fields: dict[str, str]) -> str:
    """What ``sort`` takes: a comma list of the names, each optionally prefixed by -."""
    name = "-?(" + "|".join(fields) + ")"
    return rf"{name}(,{name})*"


def _parse_sort(raw: str, fields: dict[str, str], model: type[Model]) -> list:
    if not re.fullmatch(sort_form(fields), raw):
        raise ValueError(raw)
    order = []
    for part in raw.split(","):
        descending = part.startswith("-")
        column = fields.get(part[1:] if descending else part)
        if column is None:
            raise ValueError(raw)
        expression = F(column)
        # Sessions without a date or a time come last either way (migration 0020 has the
        # indexes for both orders on PostgreSQL). A NOT NULL column is sorted plainly, so
        # that its index read backwards answers the descending sort: PostgreSQL does not see
        # that NULLS LAST is moot there, and would sort every row.
        nulls_last = True if model._meta.get_field(column).null else None
        order.append(
            expression.desc(nulls_last=nulls_last)
            if descending
            else expression.asc(nulls_last=nulls_last)
        )
    if "id" not in {part.removeprefix("-") for part in raw.split(",")}:
        order.append(F("id").asc())  # a stable order for paging
    return order


def _parse_page(raw: str) -> int:
    if not _POSITIVE.fullmatch(raw) or not 1 <= _whole(raw) <= MAX_PAGE:
        raise ValueError(raw)
    return _whole(raw)


def _parse_per_page(raw: str) -> int:
    if not _POSITIVE.fullmatch(raw) or not 1 <= _whole(raw) <= MAX_PER_PAGE:
        raise ValueError(raw)
    return _whole(raw)


# The filters that narrow a session list to one group: an event, a track, a room.
GROUP_FILTERS = ("event_id", "track_id", "location_id")


def session_filters(query: Query) -> Q:
    condition = Q()
    for name in GROUP_FILTERS:
        value = query.id(name)
        if value is not None:
            condition &= Q(**{name: value})
    statuses = query.statuses("session_status")
    if statuses:
        condition &= Q(session_status__in=statuses)
    day = query.date("date")
    if day is not None:
        condition &= Q(date=day)
    date_from = query.date("date_from")
    if date_from is not None:
        condition &= Q(date__gte=date_from)
    date_to = query.date("date_to")
    if date_to is not None:
        condition &= Q(date__lte=date_to)
    since = query.instant("updated_since")
    if since is not None:
        condition &= Q(updated_at__gte=since)
    search = query.text("search")
    if search:
        condition &= text_search(search)
    return condition


def session_order(query: Query, model: type[Model]) -> tuple[list, bool]:
    """The session list's ``sort``, and whether no index gives it in order.

    A list of one event, track or room sorts that group's sessions rather than reading the
    sort's index and filtering (``selectors.AfterFilter`` says why), except one event's by
    id, which the (event, id) index reads in order.
    """
    order = query.sort("sort", SESSION_SORTS, model)
    groups = {name for name in GROUP_FILTERS if query.id(name) is not None}
    by_id = all(key.expression.name == "id" for key in order)
    if not groups or (groups == {"event_id"} and by_id):
        return order, False
    return sorted_after_filter(order), True


def _link(request, page: int) -> dict[str, str]:
    params = request.GET.copy()
    params["page"] = str(page)
    path = getattr(request, "original_path", request.path)  # the client's form (.json)
    return {"href": request.build_absolute_uri(f"{path}?{params.urlencode()}")}


def envelope(
    request,
    queryset: QuerySet,
    serializer_class,
    *,
    page: int,
    per_page: int,
    total: int | None = None,
    shape: Callable[[Any, dict], dict] | None = None,
    unindexed_order: bool = False,
) -> dict:
    """One page of ``queryset`` in the list envelope: the page, and the count unless
    ``total`` is known or the page tells it. ``shape(row, item)`` gives each item its final
    form (fields, expand). ``next`` and ``prev`` are left out at the ends, as the vendor's
    clients expect. ``unindexed_order``: no index gives the order, so the page is picked by
    ids (``rows_of_page``)."""
    offset = (page - 1) * per_page
    sliced = queryset[offset : offset + per_page]
    page_rows = rows_of_page(queryset, sliced, unindexed_order=unindexed_order)
    if total is None:
        # A page that is not full is the last one, so it gives the total without a COUNT:
        # most filtered lists (a poll of updated_since, a search) fit on their first page.
        rows = list(page_rows)
        if 0 < len(rows) < per_page or (not rows and offset == 0):
            total = offset + len(rows)
        else:
            total = queryset.count()
    else:
        rows = list(page_rows) if offset < total else []
    page_count = math.ceil(total / per_page)
    last = max(page_count, 1)
    items = serializer_class(rows, many=True, context={"request": request}).data
    if shape is not None:
        items = [shape(row, item) for row, item in zip(rows, items, strict=True)]
    links = {
        "self": _link(request, page),
        "first": _link(request, 1),
        "last": _link(request, last),
    }
    if page < page_count:
        links["next"] = _link(request, page + 1)
    if page > 1:
        links["prev"] = _link(request, min(page - 1, last))
    return {
        "items": items,
        "_meta": {
            "totalCount": total,
            "pageCount": page_count,
            "currentPage": page,
            "perPage": per_page,
        },
        "_links": links,
    }
