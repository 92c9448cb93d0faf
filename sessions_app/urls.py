from django.urls import path

from . import live, views

app_name = "agenda"

EVENT = "agenda/<slug:organisation_slug>/<slug:event_slug>"

urlpatterns = [
    path("", views.home, name="home"),
    path("agenda/", views.agenda_index, name="index"),
    path(f"{EVENT}/", views.agenda_event, name="event"),
    path(f"{EVENT}.ics", views.agenda_ics, name="ics"),
    path(f"{EVENT}/schedule.json", views.agenda_schedule, name="schedule"),
    path(f"{EVENT}/stream", live.agenda_stream, name="stream"),
    path(f"{EVENT}/sessions/<int:pk>/", views.agenda_session, name="session"),
]
