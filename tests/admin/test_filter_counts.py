""" "Show counts" on the session list: each choice of each filter with the number of sessions
it would list, given the other filters, in one aggregate query."""

import re

from sessions_app.enums import SessionStatus
from tests import factories
from tests.admin.conftest import staff


def counts(html: str) -> dict[str, int]:
    """``{choice label: count}`` as the filter panel shows them ("Room A (2)")."""
    panel = html[html.index('id="changelist-filter"') :]
    return {
        label.strip(): int(n)
        for label, n in re.findall(r'<a href="\?[^"]*"[^>]*>\s*([^<]+?) \((\d+)\)\s*</a>', panel)
    }


def test_filter_counts_count_each_choice_given_the_other_filters(client, db):
    organisation = factories.organisation()
    event = factories.event(organisation=organisation)
    other = factories.event(organisation=organisation, name="Other event")
    red, blue = (factories.track(event=event, name=n) for n in ("Red", "Blue"))
    hall, lab = (factories.location(event=event, name=n) for n in ("Hall", "Lab"))
    factories.scheduled(event=event, track=red, location=hall, start="09:00", end="10:00")
    factories.scheduled(event=event, track=red, location=lab, start="09:00", end="10:00")
    factories.scheduled(event=event, track=blue, location=hall, day=1)
    factories.session(event=event, track=blue)  # not scheduled
    factories.scheduled(event=other, session_status=SessionStatus.APPROVED)
    client.force_login(staff(organisation, "organiser"))

    shown = counts(
        client.get(
            "/admin/sessions_app/session/", {"event": event.pk, "_facets": "True"}
        ).content.decode()
    )
    first_day = f"{event.start_date:%a %d %b %Y}"
    assert {k: shown[k] for k in ("Red", "Blue", "Hall", "Lab", first_day, "Not scheduled")} == {
        "Red": 2,
        "Blue": 2,
        "Hall": 2,
        "Lab": 1,
        first_day: 2,
        "Not scheduled": 1,
    }
    assert shown["Other event"] == 1 and shown[event.name] == 4  # other filters: none set

    # With the track set, the rooms and days count the red sessions only.
    shown = counts(
        client.get(
            "/admin/sessions_app/session/",
            {"event": event.pk, "track": red.pk, "_facets": "True"},
        ).content.decode()
    )
    assert (shown["Hall"], shown["Lab"], shown[first_day], shown["Not scheduled"]) == (1, 1, 2, 0)
    assert (shown["Red"], shown["Blue"]) == (2, 2)  # its own choices ignore it
