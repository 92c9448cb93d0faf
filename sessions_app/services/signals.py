"""Announcements sent after a write has been committed."""

from django.dispatch import Signal

# Sent on commit with ``session_id``, ``event_id``, ``action`` and ``status``: the hook
# for anything that shows sessions elsewhere (agenda caches, webhooks).
session_changed = Signal()
