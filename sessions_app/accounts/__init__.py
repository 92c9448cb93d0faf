"""Staff sign-in: the password step, second factors and single sign-on (django-allauth).

django-allauth runs the pages (/accounts/...): the password step (throttled by django-axes),
then a second factor for an account that has one (TOTP, a passkey, or a recovery code), and
single sign-on through an organisation's OpenID Connect provider
(``sessions_app.models.StaffSignIn``). This package says what is ours:

- ``adapters``: who may sign in how (no sign-up; no password where an organisation turned it
  off; single sign-on only for its email domains, mapped to a membership and role), and TOTP
  secrets sealed at rest.
- ``middleware``: a staff member who must have a second factor (an organisation requires it,
  or a superuser) and has none sets one up before anything else.
- ``receivers``: refused second factors land in the sign-in audit beside refused passwords.
"""
