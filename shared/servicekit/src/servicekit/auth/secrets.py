"""Password hashing (Argon2id) and API tokens (random, stored as SHA-256: they carry 256 bits of entropy)."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# verified against when the account does not exist, so both paths cost the same time
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(service: str, kind: str) -> tuple[str, str, str]:
    """(plaintext shown once, its prefix for recognising it in lists, the hash that is stored)."""
    body = secrets.token_urlsafe(32)
    plaintext = f"{service}_{'pat' if kind == 'personal' else 'ses'}_{body}"
    return plaintext, plaintext[:12], token_hash(plaintext)


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()
