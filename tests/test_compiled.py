"""sessions_app.models.compiled: a read compiled once answers exactly what its queryset answers."""

import threading

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from sessions_app.models import Session
from sessions_app.models.compiled import CompiledRead
from tests import factories

pytestmark = pytest.mark.django_db


def _with_related(**filters):
    return Session.objects.select_related("event__organisation", "track", "location").filter(
        **filters
    )


READ = CompiledRead(
    lambda pk, organisation_id: _with_related(pk=pk, event__organisation_id=organisation_id)
)


@pytest.fixture
def event():
    return factories.event()


@pytest.fixture
def two_sessions(event):
    room = factories.location(event=event, capacity=80)
    track = factories.track(event=event)
    first = factories.scheduled(event=event, location=room, track=track, custom_fields={})
    second = factories.scheduled(event=event, start="12:00", end="13:00")
    return first, second


def _state(session: Session) -> dict:
    return {k: v for k, v in vars(session).items() if k != "_state"}


def test_it_answers_what_the_queryset_answers(two_sessions, django_assert_num_queries):
    first, second = two_sessions
    organisation_id = first.event.organisation_id
    for session in (first, second, first):  # new ids bound into the one compiled statement
        expected = _with_related(pk=session.pk, event__organisation_id=organisation_id).get()

        with django_assert_num_queries(1):
            got = READ.get(pk=session.pk, organisation_id=organisation_id)
            # The related rows came with it, as with select_related.
            assert got.event.organisation == expected.event.organisation
            assert (got.track, got.location) == (expected.track, expected.location)

        assert _state(got) == _state(expected)
        assert _state(got.event) == _state(expected.event)
        assert got._state.adding is False and got._state.db == "default"


def test_it_sends_the_sql_the_orm_compiles(two_sessions):
    first, _ = two_sessions
    organisation_id = first.event.organisation_id
    queryset = _with_related(pk=first.pk, event__organisation_id=organisation_id)
    with CaptureQueriesContext(connection) as orm:
        list(queryset)
    with CaptureQueriesContext(connection) as compiled:
        READ.all(pk=first.pk, organisation_id=organisation_id)
    assert [q["sql"] for q in compiled] == [q["sql"] for q in orm]


def test_no_row_is_does_not_exist(two_sessions):
    first, _ = two_sessions
    other_organisation = factories.organisation()
    with pytest.raises(Session.DoesNotExist):
        READ.get(pk=first.pk, organisation_id=other_organisation.pk)
    with pytest.raises(Session.DoesNotExist):
        READ.get(pk=2**70, organisation_id=first.event.organisation_id)  # beyond bigint
    assert READ.all(pk=-(2**63) - 1, organisation_id=1) == []


def test_it_wants_every_id_and_no_other():
    with pytest.raises(TypeError, match="Expected the ids pk, organisation_id"):
        READ.all(pk=1)
    with pytest.raises(TypeError):
        READ.all(pk=1, organisation_id=2, event_id=3)


def test_a_build_that_does_not_bind_each_id_once_is_refused(event):
    unused = CompiledRead(lambda pk, event_id: Session.objects.filter(pk=pk))
    with pytest.raises(TypeError, match="'event_id' must be used once"):
        unused.all(pk=1, event_id=event.pk)
    twice = CompiledRead(lambda pk: Session.objects.filter(pk=pk) | Session.objects.filter(id=pk))
    with pytest.raises(TypeError, match="'pk' must be used once"):
        twice.all(pk=1)
    values = CompiledRead(lambda pk: Session.objects.filter(pk=pk).values("name"))
    with pytest.raises(TypeError, match="plain model querysets"):
        values.all(pk=1)


BY_NAME = CompiledRead(
    lambda name, event_id: Session.objects.filter(name=name, event_id=event_id), text=("name",)
)


def test_a_text_argument_is_bound_as_it_is(two_sessions):
    first, second = two_sessions
    Session.objects.filter(pk=second.pk).update(name="Ünïcode % _ 'quoted'")
    second.refresh_from_db()
    for session in (first, second):
        expected = list(Session.objects.filter(name=session.name, event_id=session.event_id))
        assert BY_NAME.all(name=session.name, event_id=session.event_id) == expected == [session]
    assert BY_NAME.all(name=first.name.upper() + "?", event_id=first.event_id) == []


def test_each_argument_is_of_its_kind():
    with pytest.raises(TypeError, match="'name' must be a string"):
        BY_NAME.all(name=1, event_id=1)
    with pytest.raises(TypeError, match="'event_id' must be an id"):
        BY_NAME.all(name="x", event_id="1")
    with pytest.raises(TypeError, match="text names arguments of build"):
        CompiledRead(lambda pk: Session.objects.filter(pk=pk), text=("name",))


def test_a_text_the_lookup_would_change_is_refused(event):
    # icontains binds "%text%": the value is not used unchanged, so it cannot be rebound.
    contains = CompiledRead(
        lambda name: Session.objects.filter(name__icontains=name), text=("name",)
    )
    with pytest.raises(TypeError, match="'name' must be used once"):
        contains.all(name="x")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locking_read_needs_a_transaction_every_time(event):
    session = factories.scheduled(event=event)
    locked = CompiledRead(lambda pk: Session.objects.select_for_update(no_key=True).filter(pk=pk))
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        assert locked.get(pk=session.pk).pk == session.pk
    assert captured[0]["sql"].endswith("FOR NO KEY UPDATE")
    with pytest.raises(TransactionManagementError):
        locked.get(pk=session.pk)  # compiled already: still refused outside a transaction


@pytest.mark.django_db(transaction=True)
def test_each_thread_reads_on_its_own_connection(event):
    session = factories.scheduled(event=event)
    organisation_id = event.organisation_id
    READ.get(pk=session.pk, organisation_id=organisation_id)  # compiled on this thread
    seen = []

    def read():
        try:
            seen.append(READ.get(pk=session.pk, organisation_id=organisation_id).name)
        finally:
            connection.close()

    worker = threading.Thread(target=read)
    worker.start()
    worker.join()
    assert seen == [session.name]
