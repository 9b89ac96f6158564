"""Personal data at rest: Fernet encryption for values, a keyed hash for lookups (e.g. a repeat caller's phone)."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet


class PiiVault:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())
        # The lookup key is derived, so one secret setting serves both purposes.
        self._hash_key = hashlib.sha256(b"hotline-lookup:" + key.encode()).digest()

    def seal(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode("utf-8"))

    def open(self, token: bytes | None) -> str | None:
        return None if token is None else self._fernet.decrypt(token).decode("utf-8")

    def lookup_hash(self, value: str) -> bytes:
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).digest()
