"""Messages to people: speakers and registrants hear, by email, about what concerns them.

``texts`` holds the built-in texts, their placeholders and the check organisers' texts pass;
``compose`` turns the history rows the writes leave into messages (moves of one session to
one person within a few minutes make one message); ``delivery`` sends them from the worker
through Django's email framework, with retries and a log.
"""
