"""A real OpenID Connect provider for the single sign-on tests: a small Django project of its
own on django-oauth-toolkit with OIDC on (authorization code with PKCE, RS256 ID tokens,
discovery, JWKS, userinfo), run in a process of its own on a free port (``serve``)."""
