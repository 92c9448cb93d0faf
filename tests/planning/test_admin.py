"""Blocked slots and speakers' availability in the staff UI, in the event's time zone, and
the form's error when a session would go into a block."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from sessions_app.models import BlockedSlot, SpeakerAvailability
from tests.admin.conftest import change_url, form_data


def local(moment: dt.datetime, zone: str) -> tuple[dt.date, dt.time]:
    moment = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return moment.date(), moment.time()


def test_an_organiser_blocks_lunch_in_the_events_zone(client, acme):
    client.force_login(acme.organiser)
    day = acme.event.start_date
    response = client.post(
        "/admin/sessions_app/blockedslot/add/",
        {
            "event": acme.event.pk,
            "location": "",
            "label": "Lunch",
            "date": day.isoformat(),
            "start_time": "12:30",
            "end_time": "13:30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    block = BlockedSlot.objects.get()
    assert local(block.starts_at, acme.event.timezone) == (day, dt.time(12, 30))
    listing = client.get("/admin/sessions_app/blockedslot/").content.decode()
    assert "every room" in listing and "12:30" in listing

    # The session form says why a move into it is refused, on the start time.
    session = acme.held
    response = client.post(
        change_url(session), form_data(session, start_time="12:00", end_time="13:00")
    )
    assert response.status_code == 200
    assert "This time is blocked for" in response.content.decode()


def test_a_block_needs_a_room_of_its_own_event_and_an_end_after_its_start(client, acme, globex):
    client.force_login(acme.organiser)
    day = acme.event.start_date.isoformat()
    data = {"event": acme.event.pk, "label": "x", "date": day}
    wrong_order = client.post(
        "/admin/sessions_app/blockedslot/add/",
        {**data, "location": acme.room.pk, "start_time": "13:00", "end_time": "12:00"},
    )
    assert "The end must be after the start." in wrong_order.content.decode()
    foreign = client.post(
        "/admin/sessions_app/blockedslot/add/",
        {**data, "location": globex.room.pk, "start_time": "12:00", "end_time": "13:00"},
    )
    assert foreign.status_code == 200 and not BlockedSlot.objects.exists()


def test_a_speakers_availability_is_entered_on_their_page(client, acme):
    from sessions_app.models import Speaker

    speaker = Speaker.objects.create(event=acme.event, first_name="Ada", email="ada@example.com")
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/speaker/{speaker.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and "Availability (none: any time" in page.content.decode()
    day = acme.event.start_date
    prefix = "availabilities"
    response = client.post(
        url,
        {
            "first_name": "Ada",
            "last_name": "",
            "email": "ada@example.com",
            "company": "",
            "job_title": "",
            "bio": "",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-date": day.isoformat(),
            f"{prefix}-0-start_time": "13:00",
            f"{prefix}-0-end_time": "18:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    window = SpeakerAvailability.objects.get(speaker=speaker)
    assert local(window.starts_at, acme.event.timezone) == (day, dt.time(13, 0))
    assert local(window.ends_at, acme.event.timezone) == (day, dt.time(18, 0))


def test_the_grid_draws_blocked_slots_and_knows_speakers_availability(client, acme):
    from sessions_app.models import Speaker

    event = acme.event
    zone = zoneinfo.ZoneInfo(event.timezone)
    day = event.start_date
    BlockedSlot.objects.create(
        event=event,
        label="Lunch",
        starts_at=dt.datetime.combine(day, dt.time(12), tzinfo=zone),
        ends_at=dt.datetime.combine(day, dt.time(13), tzinfo=zone),
    )
    ada = Speaker.objects.create(event=event, first_name="Ada")
    SpeakerAvailability.objects.create(
        speaker=ada,
        starts_at=dt.datetime.combine(day, dt.time(13), tzinfo=zone),
        ends_at=dt.datetime.combine(day, dt.time(18), tzinfo=zone),
    )
    client.force_login(acme.organiser)
    page = client.get(
        f"/admin/sessions_app/session/schedule/?event={event.pk}&day={day}"
    ).content.decode()
    assert 'class="sm-blocked"' in page and "Blocked: Lunch" in page
    assert f"&quot;{ada.pk}&quot;: [[780, 1080]]" in page  # 13:00 to 18:00 in minutes


def test_a_rooms_opening_hours_are_entered_on_its_page(client, acme):
    from sessions_app.models import LocationOpening

    room = acme.room
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/location/{room.pk}/change/"
    assert "Opening hours (none: whenever" in client.get(url).content.decode()
    day = acme.event.start_date
    prefix = "openings"
    response = client.post(
        url,
        {
            "name": room.name,
            "capacity": room.capacity or "",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
            f"{prefix}-0-date": day.isoformat(),
            f"{prefix}-0-start_time": "09:00",
            f"{prefix}-0-end_time": "17:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    opening = LocationOpening.objects.get(location=room)
    assert local(opening.starts_at, acme.event.timezone) == (day, dt.time(9, 0))


def test_the_grid_says_what_a_partial_an_infeasible_and_an_empty_answer_mean(client, acme):
    from sessions_app.models import ScheduleProposal

    client.force_login(acme.organiser)
    answers = {
        "partial": "1 session could not be placed.",  # (no move: the list has no intro)
        "infeasible": "No session can be placed:",
        "nothing_to_place": "Nothing to place: every session stays where it is",
    }
    for status, text in answers.items():
        reasons = {} if status == "nothing_to_place" else {str(acme.proposal.pk): "no room fits"}
        proposal = ScheduleProposal.objects.create(
            event=acme.event,
            state=ScheduleProposal.State.DONE,
            result={"status": status, "moves": [], "before": {}, "reasons": reasons},
        )
        page = client.get(
            "/admin/sessions_app/session/schedule/",
            {"event": acme.event.pk, "proposal": proposal.pk},
        ).content.decode()
        assert text in page, status
        # Named, with its id.
        named = f"{acme.proposal.name} (#{acme.proposal.pk}): no room fits"
        assert (named in page) == bool(reasons)
