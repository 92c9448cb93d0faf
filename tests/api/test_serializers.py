"""FlatOutputSerializer: fields bound once per class answer what DRF's own binding answers."""

import pytest
from django.test import RequestFactory
from rest_framework import serializers as drf

from sessions_app.api.serializers import SessionSerializer
from sessions_app.models import Session
from tests import factories

pytestmark = pytest.mark.django_db


def _drf_answer(session, request) -> dict:
    """The same serializer answered the way DRF does it: fields copied and bound per instance."""
    serializer = SessionSerializer(session, context={"request": request})
    return drf.Serializer.to_representation(serializer, session)


def test_the_answer_is_drfs_own(event):
    room = factories.location(event=event)
    request = RequestFactory().get("/", HTTP_HOST="one.example")
    for session in (
        factories.live(event=event, location=room, custom_fields={}),
        factories.session(event=event),  # unscheduled: nulls throughout
    ):
        session = Session.objects.select_related("event__organisation").get(pk=session.pk)
        answer = SessionSerializer(session, context={"request": request}).data
        assert answer == _drf_answer(session, request)


def test_method_fields_use_the_request_of_the_serializer_answering(event):
    session = factories.live(event=event)
    session = Session.objects.select_related("event__organisation").get(pk=session.pk)
    links = [
        SessionSerializer(
            session, context={"request": RequestFactory().get("/", HTTP_HOST=host)}
        ).data["direct_link"]
        for host in ("one.example", "two.example")
    ]
    assert links[0].startswith("http://one.example/agenda/")
    assert links[1].startswith("http://two.example/agenda/")
