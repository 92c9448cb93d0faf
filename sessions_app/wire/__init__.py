"""The formats the doors share, below all of them: how a session is read from a request or a
file (``session_input``), how it is represented (``representation``), and the problem
document every error is answered with (``problems``).
"""
