"""Developer machine: debug on, a fixed throwaway secret."""

from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING, NOTICES, WEBHOOKS, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-dev-only-not-secret-" + "x" * 32)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["*"])
# Local webhook receivers (http://127.0.0.1:...) are fine on a developer's machine.
WEBHOOKS = {
    **WEBHOOKS,
    "ALLOW_PRIVATE_ADDRESSES": env.bool("DJANGO_WEBHOOK_ALLOW_PRIVATE", default=True),
}
# Messages to speakers and registrants are printed in this terminal unless a mail server
# is given (DJANGO_EMAIL_URL=smtp://...).
vars().update(env.email_url("DJANGO_EMAIL_URL", default="consolemail://"))
# Moves merge for 20 seconds here (3 minutes in production), so a demo move shows soon.
NOTICES = {**NOTICES, "COALESCE_SECONDS": env.float("DJANGO_NOTICES_COALESCE", default=20.0)}
# A person reads this terminal: one short, coloured line per request (production: JSON).
LOGGING = {
    **LOGGING,
    "handlers": {
        **LOGGING["handlers"],
        "console": {
            **LOGGING["handlers"]["console"],
            "formatter": env("DJANGO_LOG_FORMAT", default="plain"),
        },
    },
}
# Passkeys work on http://localhost here (a browser treats localhost as secure).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env.bool("DJANGO_WEBAUTHN_ALLOW_HTTP", default=True)
