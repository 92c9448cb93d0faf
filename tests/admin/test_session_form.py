"""The session form writes through the services: rules on fields, history once, no lost updates."""

import datetime as dt

import pytest
from django.contrib.admin.models import LogEntry
from oauth2_provider.models import get_application_model

from sessions_app import services
from sessions_app.enums import SessionStatus
from sessions_app.models import Event, Session, SessionChange, SessionSpeaker, Speaker
from tests import factories
from tests.admin.conftest import change_url, form_data


def test_session_form_edit_time_saves_and_records_history_once(client, acme):
    client.force_login(acme.organiser)
    response = client.post(
        change_url(acme.held), form_data(acme.held, start_time="10:15", end_time="11:15")
    )
    assert response.status_code == 302
    session = Session.objects.get(pk=acme.held.pk)
    assert (session.start_time, session.end_time, session.version) == (
        dt.time(10, 15),
        dt.time(11, 15),
        2,
    )
    entry = SessionChange.objects.get()
    assert (entry.action, entry.actor_user, entry.version) == (
        "session.update",
        acme.organiser,
        2,
    )
    assert entry.changes == {
        "start_time": {"old": "10:00:00", "new": "10:15:00"},
        "end_time": {"old": "11:00:00", "new": "11:15:00"},
    }


def test_session_form_unchanged_save_writes_nothing(client, acme):
    client.force_login(acme.organiser)
    response = client.post(change_url(acme.held), form_data(acme.held))
    assert response.status_code == 302
    assert Session.objects.get(pk=acme.held.pk).version == 1
    assert not SessionChange.objects.exists()


def test_session_form_room_clash_is_an_error_on_location_with_link(client, acme):
    # The proposal (12:00) was approved, then moved onto the keynote's 10:00 slot.
    Session.objects.filter(pk=acme.proposal.pk).update(session_status=SessionStatus.APPROVED)
    proposal = Session.objects.get(pk=acme.proposal.pk)
    client.force_login(acme.organiser)
    response = client.post(
        change_url(proposal), form_data(proposal, start_time="10:30", end_time="11:30")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["location"]
    link = f'href="/admin/sessions_app/session/{acme.held.pk}/change/"'
    assert link in str(errors["location"])
    assert link in response.content.decode()
    assert Session.objects.get(pk=proposal.pk).start_time == dt.time(12, 0)
    assert not SessionChange.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"start_time": "11:00", "end_time": "10:00"}, "end_time"),
        ({"date": "2031-01-01"}, "date"),
        ({"end_time": ""}, "end_time"),
        ({"use_event_timezone": None, "timezone": ""}, "timezone"),
        ({"webinar_url": "ftp://example.com/x"}, "webinar_url"),
    ],
    ids=["end_before_start", "outside_event", "incomplete", "zone_missing", "bad_url"],
)
def test_session_form_rule_breach_shows_on_its_field(client, acme, overrides, field):
    client.force_login(acme.organiser)
    data = form_data(acme.held, **overrides)
    data = {k: v for k, v in data.items() if v is not None}
    if overrides.get("use_event_timezone", "") is None:
        data.pop("use_event_timezone", None)
    response = client.post(change_url(acme.held), data)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).version == 1
    assert not SessionChange.objects.exists()


def test_session_form_capacity_above_location_is_refused(client, acme):
    acme.room.capacity = 50
    acme.room.save()
    client.force_login(acme.organiser)
    response = client.post(change_url(acme.held), form_data(acme.held, capacity="80"))
    assert "capacity" in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).capacity is None


def test_session_form_stale_save_is_refused_and_first_save_kept(client, acme):
    client.force_login(acme.organiser)
    stale = form_data(acme.held)  # both opened the page at version 1
    first = client.post(change_url(acme.held), {**stale, "name": "First editor"})
    assert first.status_code == 302
    second = client.post(change_url(acme.held), {**stale, "description": "Second editor"})
    assert second.status_code == 200
    text = " ".join(second.context["adminform"].form.non_field_errors())
    assert "Reload the page" in text
    session = Session.objects.get(pk=acme.held.pk)
    assert (session.name, session.description, session.version) == ("First editor", "", 2)
    assert SessionChange.objects.count() == 1


def test_session_form_custom_fields_are_typed_form_fields(client, acme, typed_fields):
    client.force_login(acme.organiser)
    form = client.get(change_url(acme.held)).context["adminform"].form
    widgets = {
        kind: type(form.fields[f"cf_{field.pk}"].widget).__name__
        for kind, field in typed_fields.items()
    }
    assert widgets == {
        "text": "TextInput",
        "textarea": "Textarea",
        "number": "NumberInput",
        "date": "DateInput",
        "url": "URLInput",
        "checkbox": "CheckboxInput",
        "dropdown": "Select",
        "multiselect": "CheckboxSelectMultiple",
    }
    assert form.fields[f"cf_{typed_fields['date'].pk}"].widget.input_type == "date"


def test_session_form_custom_fields_of_each_type_are_stored_in_wire_shape(
    client, acme, typed_fields
):
    f = typed_fields
    green = f["dropdown"].choices.get(label="Green")
    m_red, m_blue = f["multiselect"].choices.exclude(label="Green")
    client.force_login(acme.organiser)
    response = client.post(
        change_url(acme.held),
        form_data(
            acme.held,
            **{
                f"cf_{f['text'].pk}": "Ada",
                f"cf_{f['textarea'].pk}": "Line one\nLine two",
                f"cf_{f['number'].pk}": "42",
                f"cf_{f['date'].pk}": "2030-05-01",
                f"cf_{f['url'].pk}": "https://example.com/slides",
                f"cf_{f['checkbox'].pk}": "on",
                f"cf_{f['dropdown'].pk}": str(green.pk),
                f"cf_{f['multiselect'].pk}": [str(m_red.pk), str(m_blue.pk)],
            },
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).custom_fields == {
        f["text"].key: "Ada",
        f["textarea"].key: "Line one\nLine two",
        f["number"].key: 42,
        f["date"].key: "2030-05-01",
        f["url"].key: "https://example.com/slides",
        f["checkbox"].key: 1,
        f["dropdown"].key: [{"id": green.pk}],
        f["multiselect"].key: [{"id": m_red.pk}, {"id": m_blue.pk}],
    }
    entry = SessionChange.objects.get()
    assert entry.changes[f"custom_fields.{f['number'].key}"] == {"old": None, "new": 42}


def test_session_form_custom_values_show_as_initial_and_clear_with_none(client, acme, typed_fields):
    dropdown = typed_fields["dropdown"]
    choice = dropdown.choices.first()
    services.session_update(
        session_id=acme.held.pk,
        data={"custom_fields": {dropdown.key: [{"id": choice.pk}], typed_fields["text"].key: "x"}},
        actor=services.SYSTEM,
    )
    held = Session.objects.get(pk=acme.held.pk)
    client.force_login(acme.organiser)
    form = client.get(change_url(held)).context["adminform"].form
    assert form.initial[f"cf_{dropdown.pk}"] == choice.pk
    response = client.post(
        change_url(held),
        form_data(
            held, **{f"cf_{dropdown.pk}": str(choice.pk), f"cf_{typed_fields['text'].pk}": ""}
        ),
    )
    assert response.status_code == 302
    assert Session.objects.get(pk=held.pk).custom_fields == {dropdown.key: [{"id": choice.pk}]}


def test_session_form_required_custom_field_is_marked_and_enforced(client, acme):
    level = factories.custom_field(
        event=acme.event, field_type="dropdown", label="Level", required=True, choices=["A", "B"]
    )
    client.force_login(acme.organiser)
    page = client.get(change_url(acme.held))
    assert page.context["adminform"].form.fields[f"cf_{level.pk}"].required is True
    assert f'<label class="required" for="id_cf_{level.pk}">' in page.content.decode()
    response = client.post(change_url(acme.held), form_data(acme.held, name="Renamed"))
    assert f"cf_{level.pk}" in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).name == "Acme keynote"


def test_session_form_bad_choice_id_is_refused_on_the_field(client, acme, typed_fields):
    other = factories.custom_field(event=acme.event, field_type="dropdown", choices=["Z"])
    foreign_choice = other.choices.get()
    client.force_login(acme.organiser)
    name = f"cf_{typed_fields['dropdown'].pk}"
    response = client.post(change_url(acme.held), form_data(acme.held, **{name: foreign_choice.pk}))
    assert name in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).custom_fields == {}


def test_session_add_form_creates_through_the_service(client, acme, typed_fields):
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/session/add/?event={acme.event.pk}"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(
        url,
        {
            "name": "Fresh talk",
            "track": acme.other_track.pk,
            "location": acme.other_room.pk,
            "date": "2030-06-11",
            "start_time": "14:00",
            "end_time": "15:00",
            "use_event_timezone": "on",
            "selection_control": "optional",
            f"cf_{typed_fields['number'].pk}": "2.5",
        },
    )
    assert response.status_code == 302
    session = Session.objects.get(name="Fresh talk")
    assert (session.event, session.track, session.location, session.session_status) == (
        acme.event,
        acme.other_track,
        acme.other_room,
        SessionStatus.SUBMITTED,
    )
    # An unticked checkbox is a value (0); empty fields are simply absent.
    assert session.custom_fields == {
        typed_fields["number"].key: 2.5,
        typed_fields["checkbox"].key: 0,
    }
    entry = SessionChange.objects.get()
    assert (entry.action, entry.actor_user) == ("session.create", acme.organiser)


def test_session_form_has_no_free_status_field(client, acme):
    client.force_login(acme.organiser)
    form = client.get(change_url(acme.proposal)).context["adminform"].form
    assert "session_status" not in form.fields
    response = client.post(
        change_url(acme.proposal), form_data(acme.proposal, session_status="live")
    )
    assert response.status_code == 302
    assert Session.objects.get(pk=acme.proposal.pk).session_status == SessionStatus.SUBMITTED


def test_session_page_history_newest_first_with_user_and_api_client(client, acme):
    api_client = get_application_model().objects.create(
        name="Agenda sync",
        organisation=acme.event.organisation,
        client_type="confidential",
        authorization_grant_type="client-credentials",
    )
    services.session_update(
        session_id=acme.held.pk,
        data={"track_id": acme.other_track.pk},
        actor=services.Actor(client=api_client),
    )
    services.session_set_status(
        session_id=acme.held.pk,
        status="live",
        actor=services.Actor(user=acme.reviewer),
        note="Ready for attendees",
    )
    client.force_login(acme.organiser)
    page = client.get(change_url(acme.held))
    rows = page.context["history"]
    assert [r.entry.action for r in rows] == ["session.status.live", "session.update"]
    assert [r.actor_kind for r in rows] == ["user", "client"]
    assert rows[0].changes == [("Status", "Approved", "Live")]
    assert rows[1].changes == [
        ("Track", f"Acme Track (#{acme.track.pk})", f"Acme Second Track (#{acme.other_track.pk})")
    ]
    body = page.content.decode()
    assert "Ready for attendees" in body and "API client Agenda sync" in body


def test_session_delete_goes_through_service_and_refuses_live(client, acme):
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/session/{acme.proposal.pk}/delete/"
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Session.objects.filter(pk=acme.proposal.pk).exists()
    assert SessionChange.objects.get().action == "session.delete"
    Session.objects.filter(pk=acme.held.pk).update(session_status=SessionStatus.LIVE)
    response = client.post(f"/admin/sessions_app/session/{acme.held.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Session.objects.filter(pk=acme.held.pk).exists()
    assert SessionChange.objects.count() == 1


def test_event_form_time_zone_change_goes_through_service(client, acme):
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/event/{acme.event.pk}/change/"
    event = acme.event
    response = client.post(
        url,
        {
            "name": event.name,
            "slug": event.slug,
            "timezone": "America/New_York",
            "start_date": event.start_date.isoformat(),
            "end_date": event.end_date.isoformat(),
            "proposed_programme": event.proposed_programme,
            "interest_on_publish": event.interest_on_publish,
        },
    )
    assert response.status_code == 302
    held = Session.objects.get(pk=acme.held.pk)
    assert held.starts_at == dt.datetime(2030, 6, 10, 14, 0, tzinfo=dt.UTC)
    assert SessionChange.objects.filter(action="session.reschedule").count() == 2


def test_event_form_dates_excluding_sessions_are_refused_on_field(client, acme):
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/event/{acme.event.pk}/change/"
    event = acme.event
    response = client.post(
        url,
        {
            "name": event.name,
            "slug": event.slug,
            "timezone": event.timezone,
            "start_date": "2030-06-11",
            "end_date": event.end_date.isoformat(),
            "proposed_programme": event.proposed_programme,
            "interest_on_publish": event.interest_on_publish,
        },
    )
    assert response.status_code == 200
    assert "start_date" in response.context["adminform"].form.errors
    assert Session.objects.get(pk=acme.held.pk).event.start_date == dt.date(2030, 6, 10)


def test_session_form_clash_with_percent_in_name_is_shown_not_crashing(client, acme):
    # The service's message is final text; it must not go through %-formatting again.
    Session.objects.filter(pk=acme.held.pk).update(name="100% fun")
    Session.objects.filter(pk=acme.proposal.pk).update(session_status=SessionStatus.APPROVED)
    proposal = Session.objects.get(pk=acme.proposal.pk)
    client.force_login(acme.organiser)
    response = client.post(
        change_url(proposal), form_data(proposal, start_time="10:30", end_time="11:30")
    )
    assert response.status_code == 200
    assert "“100% fun”" in str(response.context["adminform"].form.errors["location"])
    assert Session.objects.get(pk=proposal.pk).start_time == dt.time(12, 0)


def test_session_form_untouched_custom_date_is_not_a_change(client, acme, typed_fields):
    field = typed_fields["date"]
    services.session_update(
        session_id=acme.proposal.pk,
        data={"custom_fields": {field.key: "2030-06-11"}},
        actor=services.SYSTEM,
    )
    session = Session.objects.get(pk=acme.proposal.pk)
    client.force_login(acme.organiser)
    response = client.post(
        change_url(session), form_data(session, **{f"cf_{field.pk}": "2030-06-11"})
    )
    assert response.status_code == 302
    assert LogEntry.objects.get().get_change_message() == "No fields changed."
    assert Session.objects.get(pk=session.pk).version == session.version


def event_post(event, **overrides) -> dict:
    data = {
        "name": event.name,
        "slug": event.slug,
        "timezone": event.timezone,
        "start_date": event.start_date.isoformat(),
        "end_date": event.end_date.isoformat(),
        "proposed_programme": event.proposed_programme,
        "interest_on_publish": event.interest_on_publish,
    }
    return {**data, **overrides}


def test_event_form_end_date_excluding_sessions_is_refused_on_end_date(client, acme):
    factories.scheduled(event=acme.event, name="Last day", day=2)
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/event/{acme.event.pk}/change/"
    response = client.post(url, event_post(acme.event, end_date="2030-06-11"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["end_date"]
    assert "1 session(s) are scheduled outside these dates" in errors["end_date"][0]
    assert Event.objects.get(pk=acme.event.pk).end_date == dt.date(2030, 6, 12)


def refused_time_zone_change(client, acme, timezone):
    """The event form's errors on its time zone field, when changing it to ``timezone`` was
    refused and changed nothing."""
    before = {s.pk: (s.starts_at, s.version) for s in Session.objects.all()}
    client.force_login(acme.organiser)
    url = f"/admin/sessions_app/event/{acme.event.pk}/change/"
    response = client.post(url, event_post(acme.event, timezone=timezone))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["timezone"]
    assert Event.objects.get(pk=acme.event.pk).timezone == "Europe/Berlin"
    assert {s.pk: (s.starts_at, s.version) for s in Session.objects.all()} == before
    return errors["timezone"]


def test_event_form_time_zone_change_that_clashes_is_refused_on_timezone(client, acme):
    # Same wall-clock hour in two zones: once the event's zone is New York they overlap.
    services.session_update(
        session_id=acme.proposal.pk,
        data={
            "use_event_timezone": False,
            "timezone": "America/New_York",
            "start_time": dt.time(10),
            "end_time": dt.time(11),
            "session_status": SessionStatus.APPROVED,
        },
        actor=services.SYSTEM,
    )
    errors = refused_time_zone_change(client, acme, "America/New_York")
    assert "would overlap in their locations" in errors[0]
    assert f'href="/admin/sessions_app/session/{acme.held.pk}/change/"' in str(errors)


def test_event_form_time_zone_change_that_double_books_a_speaker_is_refused(client, acme):
    # Ada speaks in the held 10:00 Berlin session and at 10:00 New York in another room:
    # once the event's zone is New York she would be in both.
    ada = Speaker.objects.create(event=acme.event, first_name="Ada", last_name="<Lovelace>")
    SessionSpeaker.objects.create(session=acme.held, speaker=ada)
    Session.objects.filter(pk=acme.held.pk).update(speaker_ids=[ada.pk])
    elsewhere = factories.scheduled(
        event=acme.event,
        name="Evening in New York",
        location=acme.other_room,
        session_status=SessionStatus.APPROVED,
        use_event_timezone=False,
        timezone="America/New_York",
        speaker_ids=[ada.pk],
    )
    SessionSpeaker.objects.create(session=elsewhere, speaker=ada)
    [message] = refused_time_zone_change(client, acme, "America/New_York")
    assert message.startswith(
        "In this time zone Ada &lt;Lovelace&gt; would speak in two of these sessions at once: "
    )
    for session in (acme.held, elsewhere):
        assert f'href="/admin/sessions_app/session/{session.pk}/change/"' in message


def test_session_page_history_times_in_event_zone_and_checkbox_as_yes_no(
    client, acme, typed_fields
):
    checkbox = typed_fields["checkbox"]
    services.session_update(
        session_id=acme.held.pk,
        data={"custom_fields": {checkbox.key: 1}},
        actor=services.Actor(user=acme.organiser),
    )
    SessionChange.objects.update(created_at=dt.datetime(2030, 6, 1, 8, 0, 5, tzinfo=dt.UTC))
    client.force_login(acme.organiser)
    for url in (change_url(acme.held), f"/admin/sessions_app/session/{acme.held.pk}/history/"):
        response = client.get(url)
        [row] = response.context["history"]
        assert row.changes == [(f"My Checkbox ({checkbox.key})", "—", "yes")]
        assert row.when == "Sat 1 Jun 2030, 10:00:05 CEST"
        assert "Sat 1 Jun 2030, 10:00:05 CEST" in response.content.decode()


def test_session_form_pins_a_session_for_suggestions(client, acme):
    client.force_login(acme.organiser)
    page = client.get(change_url(acme.held)).content.decode()
    assert 'name="pinned"' in page and "Schedule suggestions leave it where it is." in page
    response = client.post(change_url(acme.held), form_data(acme.held, pinned="on"))
    assert response.status_code == 302
    session = Session.objects.get(pk=acme.held.pk)
    assert session.pinned and session.version == 2
    entry = SessionChange.objects.get()
    assert entry.changes == {"pinned": {"old": False, "new": True}}
    # Saved again as it is, it stays pinned and nothing is recorded.
    client.post(change_url(session), form_data(session))
    assert Session.objects.get(pk=acme.held.pk).pinned
    assert SessionChange.objects.count() == 1
