"""Run the test identity provider: ``python -m tests.oidc_provider.serve PORT SPEC``.

SPEC is JSON: ``{"client_id", "client_secret", "redirect_uris": [...], "users": [{"username",
"password", "email", "roles": [...]}]}``. The database (OIDC_PROVIDER_DB) is made afresh."""

import json
import os
import sys


def main() -> None:
    port, spec = int(sys.argv[1]), json.loads(sys.argv[2])
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_provider.settings"
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for person in spec["users"]:
        user = User.objects.create_user(person["username"], person["email"], person["password"])
        for role in person.get("roles", []):
            user.groups.add(Group.objects.get_or_create(name=role)[0])
    Application.objects.create(
        name="Sessions Manager",
        client_id=spec["client_id"],
        client_secret=spec["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(spec["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", port), Quiet)
    server.set_app(get_wsgi_application())
    server.serve_forever()


if __name__ == "__main__":
    main()
