"""What keeps robots and floods off the call and the sign-in, with no third party:

- a budget per client address and per email address (``settings.CFP_LIMITS``), counted in
  the API's rate-limit store, so it holds across every worker and app server;
- a honeypot field that people never see (and screen readers skip), and a signed stamp of
  when the form was served: a form sent back within ``MIN_FORM_SECONDS`` is a robot's.

Both checks work without JavaScript and ask nothing of the person.
"""

from __future__ import annotations

import hashlib
import time

from django import forms
from django.conf import settings
from django.core import signing

from sessions_app.ops import ratelimit
from sessions_app.ops.client_address import client_ip

HONEYPOT = "website"
_SALT = "sessions_app.cfp.form-stamp"


def limits() -> dict:
    return settings.CFP_LIMITS


def over_budget(request, action: str, email: str = "") -> int | None:
    """Seconds to wait when this address or email address has used ``action``'s budget,
    else None. Each call counts."""
    config = limits()
    window = config["WINDOW_SECONDS"]
    per = {
        "address": config[f"{action.upper()}_PER_ADDRESS"],
        "email": config[f"{action.upper()}_PER_EMAIL"],
    }
    keys = [("address", f"cfp:{action}:ip:{client_ip(request) or 'unknown'}")]
    if email:
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        keys.append(("email", f"cfp:{action}:email:{digest}"))
    wait = None
    for kind, key in keys:
        state = ratelimit.charge(key, limit=per[kind], window=window)
        if state.exceeded:
            wait = max(wait or 0, state.reset or 1)
    return wait


class GuardedForm(forms.Form):
    """A form with the honeypot and the served-at stamp."""

    website = forms.CharField(
        required=False,
        label="Leave this field empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    stamp = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["stamp"] = signing.dumps(time.time(), salt=_SALT)

    def robot(self) -> bool:
        """True when the honeypot is filled in, or the stamp is missing, forged, too fresh
        or older than a day."""
        if self.data.get(HONEYPOT):
            return True
        try:
            served = signing.loads(self.data.get("stamp", ""), salt=_SALT, max_age=86_400)
        except (signing.BadSignature, TypeError, ValueError):
            return True
        return time.time() - float(served) < limits()["MIN_FORM_SECONDS"]
