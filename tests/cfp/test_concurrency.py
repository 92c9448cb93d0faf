"""One person proposing twice at the same moment, on real concurrent connections."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from sessions_app import services
from sessions_app.models import Session, SessionType, Speaker

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_first_proposals_at_once_make_one_account_and_one_speaker(call):
    # They have an account already (from another event's call): no insert of one to
    # queue the two submissions behind each other.
    services.proposals.speaker_account("same@example.org")
    services.proposals.speaker_account("co@example.org")
    talk = SessionType.objects.get(event=call.event, name="Talk")
    level = call.fields.get()
    barrier = threading.Barrier(2)
    errors = []

    def submit(title: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.proposal_submit(
                call=call,
                email="Same@Example.org",
                profile={"first_name": "Sam"},
                data={
                    "name": title,
                    "description": "An abstract long enough for the call.",
                    "session_type_id": talk.pk,
                    "custom_fields": {level.key: [{"id": level.choices.first().pk}]},
                },
                co_speakers=["co@example.org"],
            )
        except Exception as exc:  # re-raised below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(f"Talk {n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert Session.objects.filter(event=call.event).count() == 2
    assert get_user_model().objects.filter(email__iexact="same@example.org").count() == 1
    assert Speaker.objects.filter(event=call.event, email__iexact="same@example.org").count() == 1
    assert Speaker.objects.filter(event=call.event, email="co@example.org").count() == 1
