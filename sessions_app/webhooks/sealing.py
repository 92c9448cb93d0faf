"""Secrets we must read back (webhook signing keys), encrypted at rest.

Client secrets and tokens are hashed: we only compare them. A webhook secret signs every
delivery, so it is kept encrypted instead (Fernet: AES-128-CBC with an HMAC), under a key
derived from SECRET_KEY. SECRET_KEY_FALLBACKS still open what older keys sealed, so a key
rotation loses no subscription; ``seal`` always uses the current key.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# The key derivation's label: part of every sealed secret's key, so it never changes (not even
# when the module moves), or the secrets already stored could not be opened.
_INFO = b"sessions_app.sealing.webhook-secret"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _keys() -> MultiFernet:
    return MultiFernet(
        [_fernet(key) for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
    )


def seal(plain: str) -> str:
    return _keys().encrypt(plain.encode()).decode()


class UnsealError(ValueError):
    """Sealed under a key that is neither SECRET_KEY nor one of its fallbacks."""


def unseal(sealed: str) -> str:
    try:
        return _keys().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise UnsealError("The secret was sealed with a key this server no longer has.") from None
