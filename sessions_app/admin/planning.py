"""What the schedule must respect, in the staff UI: blocked slots (breaks, lunch, reserved
rooms) per event, and each speaker's availability (an inline on the speaker's page). Times
are entered and shown in the event's zone, as a session's are."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import forms
from django.contrib import admin

from sessions_app.admin.display import local_moment
from sessions_app.admin.filters import EventFilter
from sessions_app.admin.inlines import TabularInline
from sessions_app.admin.scoping import OrganisationScopedAdmin, events_for
from sessions_app.models import BlockedSlot, Location, LocationOpening, SpeakerAvailability
from sessions_app.validators import YEAR_MAX, YEAR_MIN


class LocalTimesForm(forms.ModelForm):
    """A day and two times in the event's zone, for ``starts_at`` and ``ends_at``."""

    date = forms.DateField(help_text="In the event's time zone.")
    start_time = forms.TimeField(label="From")
    end_time = forms.TimeField(label="To")

    def zone_name(self) -> str | None:
        raise NotImplementedError

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.starts_at and (name := self.zone_name()):
            zone = zoneinfo.ZoneInfo(name)
            begins, ends = instance.starts_at.astimezone(zone), instance.ends_at.astimezone(zone)
            self.initial.update(date=begins.date(), start_time=begins.time(), end_time=ends.time())

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        name = self.zone_name()
        if day and not YEAR_MIN <= day.year <= YEAR_MAX:
            self.add_error("date", f"Enter a date from {YEAR_MIN} to {YEAR_MAX}.")
            return data
        if day and start and end and name:
            if end <= start:
                self.add_error("end_time", "The end must be after the start.")
                return data
            zone = zoneinfo.ZoneInfo(name)
            self.instance.starts_at = dt.datetime.combine(day, start, tzinfo=zone)
            self.instance.ends_at = dt.datetime.combine(day, end, tzinfo=zone)
        return data


class BlockedSlotForm(LocalTimesForm):
    class Meta:
        model = BlockedSlot
        fields = ["event", "location", "label"]

    def zone_name(self):
        event = self.cleaned_data.get("event") if hasattr(self, "cleaned_data") else None
        event = event or (self.instance.event if self.instance.event_id else None)
        return event.timezone if event else None

    def clean(self):
        data = super().clean()
        event, location = data.get("event"), data.get("location")
        if event and location and location.event_id != event.pk:
            self.add_error("location", "Choose a room of this event, or none for every room.")
        return data


@admin.register(BlockedSlot)
class BlockedSlotAdmin(OrganisationScopedAdmin):
    form = BlockedSlotForm
    list_display = ["label", "event", "room_display", "when_display"]
    list_filter = [EventFilter]
    list_select_related = ["event", "location"]
    search_fields = ["label"]
    fields = ["event", "location", "label", "date", "start_time", "end_time"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Location:
            kwargs["queryset"] = Location.objects.filter(
                event__in=events_for(request, self.edit_role)
            ).select_related("event")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="room", ordering="location__name")
    def room_display(self, obj):
        return obj.location.name if obj.location else "every room"

    @admin.display(description="when", ordering="starts_at")
    def when_display(self, obj):
        zone = obj.event.timezone
        return f"{local_moment(obj.starts_at, zone)} to {local_moment(obj.ends_at, zone, '%H:%M')}"


class InlineTimesForm(LocalTimesForm):
    """Times of a row on its owner's page (a speaker's, a room's): in its event's zone."""

    owner = ""  # the foreign key to the page's object

    def zone_name(self):
        if not getattr(self.instance, f"{self.owner}_id"):
            return None
        return getattr(self.instance, self.owner).event.timezone


class AvailabilityForm(InlineTimesForm):
    owner = "speaker"

    class Meta:
        model = SpeakerAvailability
        fields: list[str] = []


class SpeakerAvailabilityInline(TabularInline):
    """When the speaker can be there; none at all: any time."""

    model = SpeakerAvailability
    form = AvailabilityForm
    extra = 0
    fields = ["date", "start_time", "end_time"]
    verbose_name = "available"
    verbose_name_plural = "availability (none: any time of the event)"


class OpeningForm(InlineTimesForm):
    owner = "location"

    class Meta:
        model = LocationOpening
        fields: list[str] = []


class LocationOpeningInline(TabularInline):
    """When the room is open; none at all: whenever the event runs."""

    model = LocationOpening
    form = OpeningForm
    extra = 0
    fields = ["date", "start_time", "end_time"]
    verbose_name = "open"
    verbose_name_plural = "opening hours (none: whenever the event runs)"
