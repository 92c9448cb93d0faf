"""Staff UI on Django's admin: sessions and events, and the API clients."""

from sessions_app.admin import api_clients, sessions, speakers, webhooks  # noqa: F401  (registers the ModelAdmins)
