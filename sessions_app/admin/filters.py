"""List filters whose choices come only from the user's own organisations (one query each).

A value that is not well formed filters to nothing rather than raising.
"""

import datetime as dt

from django.contrib import admin
from django.db.models import Count, Q

from sessions_app.admin.scoping import events_for
from sessions_app.models import Location, Track
from sessions_app.validators import ascii_int


class FacetsByConditionMixin:
    """*Show counts* as one ``COUNT(*) FILTER (WHERE <column> = <value>)`` per choice, in the
    one aggregate query the admin makes per filter: the stock SimpleListFilter counts each choice
    with ``pk IN (<the filter's queryset>)``, a subquery per choice that costs Python time to
    build and the database time to run (a 150-day event has 151 of them)."""

    def facet_condition(self, value: str) -> Q:
        raise NotImplementedError

    def get_facet_counts(self, pk_attname, filtered_qs):
        return {
            f"{i}__c": Count(pk_attname, filter=self.facet_condition(value))
            for i, (value, _label) in enumerate(self.lookup_choices)
        }


def _selected_event_id(request) -> int | None:
    return ascii_int(request.GET.get("event"))


class EventFilter(FacetsByConditionMixin, admin.SimpleListFilter):
    title = "event"
    parameter_name = "event"

    def facet_condition(self, value: str) -> Q:
        return Q(event_id=ascii_int(value))

    def lookups(self, request, model_admin):
        return [(str(pk), name) for pk, name in events_for(request).values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(event_id=ascii_int(self.value()))
        return queryset


class _EventPartFilter(FacetsByConditionMixin, admin.SimpleListFilter):
    """Tracks or locations of the visible events; only the chosen event's when one is set."""

    model = None

    def lookups(self, request, model_admin):
        rows = self.model.objects.filter(event__in=events_for(request))
        event_id = _selected_event_id(request)
        if event_id is not None:
            rows = rows.filter(event_id=event_id)
        rows = list(rows.values_list("pk", "name", "event__name").order_by("event__name", "name"))
        several_events = len({event_name for _, _, event_name in rows}) > 1
        return [
            (str(pk), f"{name} ({event_name})" if several_events else name)
            for pk, name, event_name in rows
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(self.facet_condition(self.value()))
        return queryset

    def facet_condition(self, value: str) -> Q:
        return Q(**{f"{self.parameter_name}_id": ascii_int(value)})


class TrackFilter(_EventPartFilter):
    title = "track"
    parameter_name = "track"
    model = Track


class LocationFilter(_EventPartFilter):
    title = "location"
    parameter_name = "location"
    model = Location


class DayFilter(FacetsByConditionMixin, admin.SimpleListFilter):
    title = "date"
    parameter_name = "day"
    UNSCHEDULED = "none"

    def lookups(self, request, model_admin):
        # The days of the chosen event (or of the only one), read from the event: the
        # distinct dates of the sessions would mean reading every session, and the days of
        # many events at once would be a list too long to use.
        events = events_for(request)
        event_id = _selected_event_id(request)
        if event_id is not None:
            events = events.filter(pk=event_id)
        dates = list(events.values_list("start_date", "end_date")[:2])
        days = []
        if len(dates) == 1:
            start, end = dates[0]
            days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        return [(day.isoformat(), day.strftime("%a %d %b %Y")) for day in days] + [
            (self.UNSCHEDULED, "Not scheduled")
        ]

    def queryset(self, request, queryset):
        if self.value():
            condition = self.facet_condition(self.value())
            return queryset.filter(condition) if condition is not None else queryset.none()
        return queryset

    def facet_condition(self, value: str) -> Q | None:
        if value == self.UNSCHEDULED:
            return Q(date__isnull=True)
        try:
            return Q(date=dt.date.fromisoformat(value))
        except ValueError:
            return None
