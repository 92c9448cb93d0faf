"""Dates in the staff UI name the weekday and the month, and times their zone: nobody has to
guess whether 03/01/2027 is March or January."""

import re
import zoneinfo

from sessions_app import services
from tests import factories
from tests.admin.conftest import change_url, form_data

NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


def test_the_session_list_and_form_say_the_day_by_name(client, acme):
    session = acme.held
    client.force_login(acme.organiser)
    listing = client.get("/admin/sessions_app/session/").content.decode()
    day = f"{session.date:%a %-d %b %Y}"
    assert day in listing
    assert NUMERIC_DATE.search(listing) is None

    form = client.get(change_url(session)).content.decode()
    # The date field holds ISO (the calendar writes the same), times without seconds.
    assert f'name="date" value="{session.date.isoformat()}"' in form
    assert f'name="start_time" value="{session.start_time:%H:%M}"' in form
    assert NUMERIC_DATE.search(form) is None


def test_the_british_order_is_still_read_when_typed(client, acme):
    session = acme.held
    client.force_login(acme.organiser)
    data = form_data(session, date=session.date.strftime("%d/%m/%Y"), name="Typed the old way")
    response = client.post(change_url(session), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    session.refresh_from_db()
    assert session.name == "Typed the old way"


def test_history_shows_dates_and_times_readably(client, acme):
    session = acme.held
    new_date = session.date.replace(day=session.date.day + 1)
    services.session_update(
        session_id=session.pk,
        data={"date": new_date.isoformat(), "start_time": "10:30", "end_time": "11:30"},
        actor=services.Actor(user=acme.organiser),
    )
    client.force_login(acme.organiser)
    page = client.get(change_url(session)).content.decode()
    assert f"{new_date:%a %-d %b %Y}" in page
    assert "10:30" in page and "10:30:00" not in page


def test_registrants_are_listed_with_their_time_in_the_event_zone(client, acme):
    registrant = factories.registrant(event=acme.event)
    client.force_login(acme.organiser)
    page = client.get("/admin/sessions_app/registrant/").content.decode()
    local = registrant.created_at.astimezone(zoneinfo.ZoneInfo(acme.event.timezone))
    assert f"{local:%a %-d %b %Y, %H:%M} {local.tzname()}" in page
