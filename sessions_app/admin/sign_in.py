"""How an organisation's staff sign in (``StaffSignIn``): a second factor required, single
sign-on through the organisation's OpenID Connect provider, passwords off. Organisers of the
organisation set it; the client secret is sealed when saved and never shown again."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from sessions_app.admin.scoping import OrganisationScopedAdmin
from sessions_app.models import StaffSignIn
from sessions_app.webhooks.sealing import seal


class StaffSignInForm(forms.ModelForm):
    issuer = forms.URLField(
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=StaffSignIn._meta.get_field("issuer").help_text,
    )
    client_secret = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False),
        help_text="The client secret the provider gave. Stored encrypted and not shown "
        "again; leave empty to keep the one saved.",
    )

    class Meta:
        model = StaffSignIn
        fields = [
            "organisation",
            "require_second_factor",
            "password_sign_in",
            "single_sign_on",
            "issuer",
            "client_id",
            "client_secret",
            "email_domains",
            "default_role",
            "role_claim",
        ]

    def clean(self):
        cleaned = super().clean()
        secret = (cleaned.get("client_secret") or "").strip()
        if "\0" in secret:
            self.add_error("client_secret", "The secret cannot hold a NUL character.")
        elif (
            cleaned.get("single_sign_on")
            and not secret
            and not (self.instance.pk and self.instance.client_secret_sealed)
        ):
            self.add_error("client_secret", "Needed for single sign-on.")
        return cleaned

    def save(self, commit=True):
        secret = (self.cleaned_data.get("client_secret") or "").strip()
        if secret:
            self.instance.client_secret_sealed = seal(secret)
        return super().save(commit)


@admin.register(StaffSignIn)
class StaffSignInAdmin(OrganisationScopedAdmin):
    form = StaffSignInForm
    organisation_path = "organisation"
    list_display = ["organisation", "require_second_factor", "single_sign_on", "password_sign_in"]
    list_select_related = ["organisation"]
    readonly_fields = ["redirect_uri", "secret_saved"]

    def organisation_id_of(self, obj) -> int:
        return obj.organisation_id

    def get_fields(self, request, obj=None):
        fields = list(self.form.Meta.fields)
        if obj is not None:
            fields.insert(fields.index("client_secret"), "secret_saved")
            fields.append("redirect_uri")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", *self.readonly_fields] if obj is not None else []

    @admin.display(description="Secret saved")
    def secret_saved(self, obj) -> str:
        return "yes" if obj.client_secret_sealed else "no"

    @admin.display(description="Redirect URI to register at the provider")
    def redirect_uri(self, obj):
        path = reverse("openid_connect_callback", kwargs={"provider_id": obj.provider_id})
        return format_html("this site's address followed by <code>{}</code>", path)


# django-allauth's own lists that the product does not use: providers are the organisations'
# (StaffSignIn), tokens are not stored, and addresses are not verified by email.
for _model in (EmailAddress, SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
