from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("sessions_app.api.urls")),
    path("attend/", include("sessions_app.attend")),
    path("", include("sessions_app.urls")),
]

# A database outage anywhere in the stack is a 503, not a 500 (sessions_app.availability).
handler500 = "sessions_app.availability.server_error"
