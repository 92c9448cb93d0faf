"""`make bench` only: production settings plus the reference endpoints the figures compare with.

Never used to serve users: the reference views update a session without any of the rules.
"""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "config.bench_urls"
