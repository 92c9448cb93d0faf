from django.urls import path

from sessions_app.cfp import views

app_name = "cfp"

CALL = "cfp/<slug:organisation_slug>/<slug:event_slug>"

urlpatterns = [
    path(f"{CALL}/", views.call_page, name="call"),
    path(f"{CALL}/received/", views.received, name="received"),
    path("speaker/", views.home, name="home"),
    path("speaker/sign-in/", views.sign_in, name="sign-in"),
    path("speaker/sign-in/sent/", views.sign_in_sent, name="sign-in-sent"),
    path("speaker/sign-in/link/", views.sign_in_link, name="sign-in-link"),
    path("speaker/sign-out/", views.sign_out, name="sign-out"),
    path("speaker/profile/", views.profile, name="profile"),
    path("speaker/availability/<int:speaker_id>/", views.availability, name="availability"),
    path("speaker/photo/<int:speaker_id>/", views.photo, name="photo"),
    path("speaker/proposals/<int:pk>/", views.proposal, name="proposal"),
    path("speaker/proposals/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("speaker/proposals/<int:pk>/answer/", views.answer, name="answer"),
    path("speaker/calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
]
