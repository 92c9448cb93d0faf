"""``/api/v1/...``, the OAuth2 endpoints, the schema and the docs page.

Every path takes an optional trailing slash in the pattern itself, so CommonMiddleware
never redirects (a 301 on POST would lose the body).
"""

from django.urls import re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularJSONAPIView,
    SpectacularSwaggerSplitView,
    SpectacularYAMLAPIView,
)

from sessions_app.api import (
    messages,
    oauth,
    privacy,
    proposals,
    registrants,
    reviews,
    session_types,
    speakers,
    views,
    webhooks,
)

app_name = "api"

ID = r"(?P<pk>[0-9]{1,30})"

urlpatterns = [
    re_path(r"^oauth2/token/?$", oauth.TokenView.as_view(), name="token"),
    re_path(r"^oauth2/revoke_token/?$", oauth.RevokeTokenView.as_view(), name="revoke-token"),
    re_path(r"^oauth2/introspect/?$", oauth.IntrospectTokenView.as_view(), name="introspect"),
    re_path(r"^api/v1/sessions/?$", views.SessionCollectionView.as_view(), name="session-list"),
    re_path(r"^api/v1/sessions/fields/?$", views.CustomFieldListView.as_view(), name="fields"),
    re_path(
        rf"^api/v1/sessions/update/{ID}/?$",
        views.SessionUpdateAliasView.as_view(),
        name="session-update",
    ),
    re_path(rf"^api/v1/sessions/{ID}/?$", views.SessionItemView.as_view(), name="session-detail"),
    re_path(
        rf"^api/v1/sessions/{ID}/history/?$",
        views.SessionHistoryView.as_view(),
        name="session-history",
    ),
    re_path(
        rf"^api/v1/sessions/{ID}/reviews/?$",
        reviews.SessionReviewsView.as_view(),
        name="session-reviews",
    ),
    re_path(
        rf"^api/v1/sessions/{ID}/registrants/?$",
        registrants.SessionRegistrantsView.as_view(),
        name="session-registrants",
    ),
    re_path(
        r"^api/v1/registrants/?$",
        registrants.RegistrantCollectionView.as_view(),
        name="registrant-list",
    ),
    re_path(
        rf"^api/v1/registrants/{ID}/?$",
        registrants.RegistrantItemView.as_view(),
        name="registrant-detail",
    ),
    re_path(
        rf"^api/v1/registrants/{ID}/sessions/?$",
        registrants.RegistrantSelectionsView.as_view(),
        name="registrant-sessions",
    ),
    re_path(
        rf"^api/v1/registrants/{ID}/sessions/(?P<session_id>[0-9]{{1,30}})/?$",
        registrants.RegistrantSelectionItemView.as_view(),
        name="registrant-session",
    ),
    re_path(r"^api/v1/speakers/?$", speakers.SpeakerCollectionView.as_view(), name="speaker-list"),
    re_path(
        rf"^api/v1/speakers/{ID}/?$", speakers.SpeakerItemView.as_view(), name="speaker-detail"
    ),
    re_path(
        rf"^api/v1/events/{ID}/schedule-proposals/?$",
        proposals.ProposalCreateView.as_view(),
        name="schedule-proposal-list",
    ),
    re_path(
        rf"^api/v1/schedule-proposals/{ID}/?$",
        proposals.ProposalItemView.as_view(),
        name="schedule-proposal-detail",
    ),
    re_path(r"^api/v1/messages/?$", messages.MessageCollectionView.as_view(), name="message-list"),
    re_path(
        rf"^api/v1/messages/{ID}/?$", messages.MessageItemView.as_view(), name="message-detail"
    ),
    re_path(r"^api/v1/webhooks/?$", webhooks.WebhookCollectionView.as_view(), name="webhook-list"),
    re_path(
        rf"^api/v1/webhooks/{ID}/?$", webhooks.WebhookItemView.as_view(), name="webhook-detail"
    ),
    re_path(
        rf"^api/v1/webhooks/{ID}/deliveries/?$",
        webhooks.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    re_path(r"^api/v1/personal-data/?$", privacy.PersonalDataView.as_view(), name="personal-data"),
    re_path(
        r"^api/v1/personal-data/erasures/?$",
        privacy.ErasureCreateView.as_view(),
        name="personal-data-erasure-list",
    ),
    re_path(
        rf"^api/v1/personal-data/erasures/{ID}/?$",
        privacy.ErasureItemView.as_view(),
        name="personal-data-erasure-detail",
    ),
    re_path(r"^api/v1/events/?$", views.EventCollectionView.as_view(), name="event-list"),
    re_path(rf"^api/v1/events/{ID}/?$", views.EventItemView.as_view(), name="event-detail"),
    re_path(
        r"^api/v1/session-types/?$",
        session_types.SessionTypeCollectionView.as_view(),
        name="session-type-list",
    ),
    re_path(
        rf"^api/v1/session-types/{ID}/?$",
        session_types.SessionTypeItemView.as_view(),
        name="session-type-detail",
    ),
    re_path(r"^api/v1/tracks/?$", views.TrackListView.as_view(), name="track-list"),
    re_path(r"^api/v1/locations/?$", views.LocationListView.as_view(), name="location-list"),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    # The same document at a versioned address, in each format (info.version says the
    # release; docs/integrators/changelog.md what changed between releases). The .json
    # suffix arrives here without it, as on every /api/v1/ path (VendorPathMiddleware).
    re_path(r"^api/v1/openapi$", SpectacularJSONAPIView.as_view(), name="openapi-json"),
    re_path(r"^api/v1/openapi\.yaml$", SpectacularYAMLAPIView.as_view(), name="openapi-yaml"),
    re_path(
        r"^api/docs/?$", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
]
