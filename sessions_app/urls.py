from django.urls import path

from . import views

app_name = "agenda"

urlpatterns = [
    path("", views.home, name="home"),
    path("agenda/", views.agenda_index, name="index"),
    path("agenda/<slug:organisation_slug>/<slug:event_slug>/", views.agenda_event, name="event"),
]
