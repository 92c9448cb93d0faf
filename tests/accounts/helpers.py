"""Codes an authenticator app would show, for the sign-in tests."""

import time

from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value


def totp_code(secret: str, *, offset: int = 0) -> str:
    """The code of the current 30-second window (``offset`` windows away)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_code(secret: str) -> str:
    """A six-digit code that is none of the windows the server accepts."""
    right = {totp_code(secret, offset=o) for o in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)
