"""Under ASGI, requests beyond the pool's size wait their turn (sessions_app.ops.gate)."""

import asyncio

from django.http import HttpResponse

from sessions_app.ops.gate import RequestGate
from tests.concurrency import run_in_own_loop


def test_at_most_the_pools_size_run_at_once_and_the_rest_wait_in_order(settings):
    settings.ASGI_CONCURRENT_REQUESTS = 2
    running, most, order = 0, 0, []

    async def view(request):
        nonlocal running, most
        running += 1
        most = max(most, running)
        order.append(request)
        await asyncio.sleep(0.02)
        running -= 1
        return HttpResponse(str(request))

    gate = RequestGate(view)

    async def crowd():
        return await asyncio.gather(*(gate(n) for n in range(8)))

    answers = run_in_own_loop(crowd)

    assert [a.content for a in answers] == [str(n).encode() for n in range(8)]
    assert most == 2
    assert order == list(range(8))


def test_the_gate_is_there_under_asgi_only():
    """config.asgi sets DJANGO_ASGI; a settings module read without it has no gate."""
    import subprocess
    import sys

    probe = (
        "import django, os; django.setup(); from django.conf import settings; "
        "print('sessions_app.ops.gate.RequestGate' in settings.MIDDLEWARE, "
        "bool(settings.DATABASES['default'].get('OPTIONS', {}).get('pool')))"
    )
    env_base = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgres://nobody@localhost/none",
    }
    seen = {}
    for flag in ("", "true"):
        env = {**env_base, **({"DJANGO_ASGI": flag} if flag else {})}
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        seen[flag] = done.stdout.split()
    assert seen == {"": ["False", "False"], "true": ["True", "True"]}
