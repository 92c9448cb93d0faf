from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from sessions_app.accounts.views import single_sign_on

# Staff sign in on django-allauth's pages (password, second factor, single sign-on); the
# admin's own login page, which knows no second factor, sends them there.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/sso/", single_sign_on, name="account_single_sign_on"),
    path("accounts/", include("allauth.urls")),
    path("", include("sessions_app.api.urls")),
    path("attend/", include("sessions_app.public.registrant")),
    path("", include("sessions_app.cfp.urls")),
    path("", include("sessions_app.public.urls")),
]

# A database outage anywhere in the stack is a 503, not a 500 (sessions_app.ops.outage).
handler500 = "sessions_app.ops.outage.server_error"
