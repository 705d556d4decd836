"""Credentials a service must use later (a user's CalDAV or mail password) are stored encrypted: Fernet (AES-128-CBC
plus HMAC-SHA256, from `cryptography`) under a key from the environment. Without the key a database dump reveals
no password; a changed key makes old ones unreadable (the user enters them again)."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

DEV_KEY = "dev-only-credentials-key: set CRM_CREDENTIALS_KEY / ERP_CREDENTIALS_KEY in production"


class SecretBox:
    def __init__(self, key: str):
        """`key`: a Fernet key (urlsafe base64 of 32 bytes) or any passphrase (its SHA-256 is used)."""
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode() if plain else ""

    def open(self, sealed: str) -> str | None:
        """The plain text, or None when it was sealed under another key (or tampered with)."""
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
