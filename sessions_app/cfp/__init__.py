"""The speakers' door: an event's call for proposals, their passwordless sign-in and their
own page. Thin: its rules are in ``services.proposals``; its messages go through the
notices outbox."""
