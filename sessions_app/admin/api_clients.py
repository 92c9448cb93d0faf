"""Admin for OAuth2 API clients: create one (its secret is shown once), revoke, disable.

Replaces django-oauth-toolkit's own application admin, which offers every grant type and
knows nothing of organisations. Organisers manage the clients of their organisations only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from sessions_app.admin.scoping import (
    OrganisationScopedAdmin,
    is_superuser,
    organisation_ids,
    scoped_action,
)
from sessions_app.enums import MemberRole
from sessions_app.models import ApiClient, Membership
from sessions_app.services.clients import (
    api_client_disable,
    api_client_prepare,
    api_client_revoke_tokens,
    api_client_set_secret,
    check_scopes,
    known_scopes,
)

CREDENTIALS_TEMPLATE = """{% extends "admin/base_site.html" %}
{% block title %}API client credentials{% endblock %}
{% block content %}
<h1>Credentials of {{ clients|length }} API client{{ clients|length|pluralize }}</h1>
<p><strong>Copy each secret now.</strong> It is stored hashed and cannot be shown again;
if it is lost, issue a new one.</p>
{% for entry in clients %}
<table style="margin-bottom: 1.5em">
  <tr><th>Name</th><td>{{ entry.client.name }}</td></tr>
  <tr><th>Organisation</th><td>{{ entry.client.organisation.slug }}</td></tr>
  <tr><th>Scopes</th><td>{{ entry.client.scopes }}</td></tr>
  <tr><th>client_id</th><td><code>{{ entry.client.client_id }}</code></td></tr>
  <tr><th>client_secret</th><td><code>{{ entry.secret }}</code></td></tr>
</table>
<p>Get a token:</p>
<pre>curl -u '{{ entry.client.client_id }}:{{ entry.secret }}' \\
     -d grant_type=client_credentials {{ token_url }}</pre>
{% endfor %}
<p><a href="{{ changelist_url }}">Back to the API clients</a></p>
{% endblock %}
"""


# A new client reads and writes sessions; registrants (personal data) only when ticked.
DEFAULT_SCOPES = ["sessions:read", "sessions:write"]


class ApiClientForm(forms.ModelForm):
    scope_list = forms.MultipleChoiceField(
        label="Scopes",
        widget=forms.CheckboxSelectMultiple,
        help_text="sessions:read to read; sessions:write for every write, status changes included.",
    )

    class Meta:
        model = ApiClient
        fields = ["organisation", "name", "reviewer"]

    def clean(self):
        data = super().clean()
        reviewer, organisation = data.get("reviewer"), data.get("organisation")
        if reviewer is not None and organisation is not None:
            held = Membership.objects.filter(
                organisation=organisation, user=reviewer, role=MemberRole.REVIEWER
            )
            if not held.exists():
                self.add_error("reviewer", "Only a reviewer of the client's organisation.")
        return data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope_list"].choices = [(scope, scope) for scope in known_scopes()]
        self.fields["scope_list"].initial = (
            self.instance.allowed_scopes if self.instance.pk else DEFAULT_SCOPES
        )
        self.fields["name"].required = True
        self.fields["name"].help_text = "How you recognise the client, e.g. 'CRM sync'."
        if "reviewer" in self.fields:
            self.fields["reviewer"].queryset = (
                get_user_model().objects.filter(memberships__role=MemberRole.REVIEWER).distinct()
            )

    def clean_scope_list(self):
        try:
            return check_scopes(self.cleaned_data["scope_list"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def save(self, commit=True):
        self.instance.scopes = " ".join(self.cleaned_data["scope_list"])
        return super().save(commit)


if admin.site.is_registered(ApiClient):
    admin.site.unregister(ApiClient)  # django-oauth-toolkit's generic application admin


@admin.register(ApiClient)
class ApiClientAdmin(OrganisationScopedAdmin):
    form = ApiClientForm
    organisation_path = "organisation"
    list_display = ("name", "organisation", "client_id", "scopes", "live_tokens", "created")
    # Only organisations that have a client this user may see: no other names leak.
    list_filter = (("organisation", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("name", "client_id")
    ordering = ("organisation__name", "name")
    actions = ("revoke_tokens", "disable_clients", "issue_new_secret")

    def organisation_id_of(self, obj) -> int:
        return obj.organisation_id

    def _organiser_orgs(self, request):
        return organisation_ids(request, MemberRole.ORGANISER)

    def get_queryset(self, request):
        qs = (
            ApiClient.objects.select_related("organisation")
            .annotate(
                live_token_count=Count(
                    "accesstoken",
                    filter=Q(accesstoken__expires__gt=timezone.now()),
                )
            )
            .order_by("organisation__name", "name")
        )
        if is_superuser(request):
            return qs
        # Clients hold credentials: only organisers of their organisation see them.
        return qs.filter(organisation_id__in=self._organiser_orgs(request))

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "name", "scope_list", "reviewer"]
        return ["organisation", "name", "scope_list", "reviewer", "client_id", "created", "updated"]

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", "client_id", "created", "updated"] if obj is not None else []

    @admin.display(description="Live tokens", ordering="live_token_count")
    def live_tokens(self, obj) -> int:
        return getattr(obj, "live_token_count", 0)

    def save_model(self, request, obj, form, change):
        if not change:
            request._api_client_secret = api_client_prepare(obj)
        obj.save()

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_api_client_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return self._credentials_page(request, [(obj, secret)])

    def _credentials_page(self, request: HttpRequest, pairs) -> HttpResponse:
        template = engines["django"].from_string(CREDENTIALS_TEMPLATE)
        context = {
            **self.admin_site.each_context(request),
            "clients": [{"client": client, "secret": secret} for client, secret in pairs],
            "token_url": request.build_absolute_uri("/oauth2/token"),
            "changelist_url": reverse("admin:sessions_app_apiclient_changelist"),
            "title": "API client credentials",
        }
        response = HttpResponse(template.render(context, request))
        response["Cache-Control"] = "no-store"
        return response

    @scoped_action(description="Revoke all tokens of the selected clients", permission="change")
    def revoke_tokens(self, request, queryset):
        count = sum(api_client_revoke_tokens(client) for client in queryset)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)

    @scoped_action(
        description="Disable the selected clients (revoke tokens, invalidate secret)",
        permission="change",
    )
    def disable_clients(self, request, queryset):
        count = sum(api_client_disable(client) for client in queryset)
        self.message_user(
            request,
            f"Disabled {queryset.count()} client(s) and revoked {count} token(s). "
            "Issue a new secret to enable a client again.",
            messages.SUCCESS,
        )

    @scoped_action(description="Issue a new secret (shown once)", permission="change")
    def issue_new_secret(self, request, queryset):
        pairs = [(client, api_client_set_secret(client)) for client in queryset]
        return self._credentials_page(request, pairs)
