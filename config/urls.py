from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("sessions_app.api.urls")),
    path("attend/", include("sessions_app.public.registrant")),
    path("", include("sessions_app.cfp.urls")),
    path("", include("sessions_app.public.urls")),
]

# A database outage anywhere in the stack is a 503, not a 500 (sessions_app.ops.outage).
handler500 = "sessions_app.ops.outage.server_error"
