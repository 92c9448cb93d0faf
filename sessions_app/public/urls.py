from django.urls import path

from sessions_app.public import agenda, embed, live, offline

app_name = "agenda"

EVENT = "agenda/<slug:organisation_slug>/<slug:event_slug>"

urlpatterns = [
    path("", agenda.home, name="home"),
    path("agenda/", agenda.agenda_index, name="index"),
    path("agenda/embed.js", embed.embed_script, name="embed_script"),
    path(f"{EVENT}/", agenda.agenda_event, name="event"),
    path(f"{EVENT}.ics", agenda.agenda_ics, name="ics"),
    path(f"{EVENT}/schedule.json", agenda.agenda_schedule, name="schedule"),
    path(f"{EVENT}/schedule.xml", agenda.agenda_schedule_xml, name="schedule_xml"),
    path(f"{EVENT}/stream", live.agenda_stream, name="stream"),
    path(f"{EVENT}/sessions/<int:pk>/", agenda.agenda_session, name="session"),
    path(f"{EVENT}/proposed/", agenda.agenda_proposed, name="proposed"),
    path(f"{EVENT}/manifest.webmanifest", offline.manifest, name="manifest"),
    path(f"{EVENT}/embed.json", embed.embed_data, name="embed_data"),
    path("sw.js", offline.service_worker, name="service_worker"),
]
