"""The attendees' door: the agenda pages (``agenda``), the live stream that keeps an open
agenda current (``stream``, woken by ``notify``), the calendar and schedule feeds
(``feeds``) and the registrant's own page (``registrant``). No login; live sessions only.
"""
