"""Staff UI on Django's admin: sessions and events, and the API clients."""

from sessions_app.admin import (  # noqa: F401  (registers the ModelAdmins)
    api_clients,
    calls,
    notices,
    planning,
    privacy,
    reviews,
    sessions,
    sign_in,
    speakers,
    webhooks,
)
