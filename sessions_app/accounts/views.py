"""Single sign-on from the sign-in page: the staff member gives their email address, and the
organisation whose domains hold it sends them to its identity provider. The sign-in page
lists no organisation (whose staff uses this product is not for anyone to read)."""

from __future__ import annotations

from allauth.socialaccount.adapter import get_adapter
from django import forms
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from sessions_app.models import StaffSignIn


class SingleSignOnForm(forms.Form):
    email = forms.EmailField(label="Work email address", max_length=254)


def config_for_email(email: str) -> StaffSignIn | None:
    for config in StaffSignIn.objects.filter(single_sign_on=True).select_related("organisation"):
        if config.admits(email):
            return config
    return None


@require_http_methods(["GET", "POST"])
def single_sign_on(request):
    form = SingleSignOnForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        config = config_for_email(form.cleaned_data["email"])
        if config is None:
            form.add_error("email", "There is no single sign-on for this address's domain.")
        else:
            provider = get_adapter(request).get_provider(request, config.provider_id)
            next_url = request.POST.get("next") or ""
            if not url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                next_url = None
            return provider.redirect(request, process="login", next_url=next_url or None)
    status = 400 if request.method == "POST" else 200
    return TemplateResponse(request, "account/sso_start.html", {"form": form}, status=status)
