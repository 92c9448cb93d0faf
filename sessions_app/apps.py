from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the system checks and connects the receivers.
        from sessions_app.accounts import receivers as account_receivers  # noqa: F401
        from sessions_app.ops import checks  # noqa: F401
        from sessions_app.services import journal, receivers  # noqa: F401
        from sessions_app.wire.representation import session_state

        journal.represent_sessions_with(session_state)
