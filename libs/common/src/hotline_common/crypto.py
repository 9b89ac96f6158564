"""Personal data at rest: Fernet encryption for values (rotatable keys), a keyed hash for lookups (a repeat
caller's phone) that stays the same across rotations."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


def parse_keys(setting: str) -> list[str]:
    """`PII_ENCRYPTION_KEY` as written: one Fernet key, or several comma-separated, the newest first."""
    keys = [k.strip() for k in setting.split(",") if k.strip()]
    if not keys:
        raise ValueError("PII_ENCRYPTION_KEY holds no key")
    return keys


class PiiVault:
    """Seals with the first key and opens with any of them, so a new key can be put in front while the data
    sealed with the old ones is re-sealed (`rotate`) in the background; then the old key is dropped.

    The lookup hash has a key of its own: deriving it from the encryption key would change every hash at a
    rotation and a repeat caller would no longer be recognised."""

    def __init__(self, keys: str | Sequence[str], lookup_key: str) -> None:
        keys = parse_keys(keys) if isinstance(keys, str) else list(keys)
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        self._newest = Fernet(keys[0].encode())
        self._hash_key = hashlib.sha256(b"hotline-lookup:" + lookup_key.encode()).digest()

    def seal(self, value: str | None) -> bytes | None:
        return None if value is None else self._fernet.encrypt(value.encode("utf-8"))

    def open(self, token: bytes | None) -> str | None:
        return None if token is None else self._fernet.decrypt(token).decode("utf-8")

    def rotate(self, token: bytes) -> bytes | None:
        """The same value sealed with the newest key; None if it is sealed with it already."""
        try:
            self._newest.decrypt(token)
            return None
        except InvalidToken:  # sealed with an older key
            return self._fernet.rotate(token)

    def lookup_hash(self, value: str) -> bytes:
        return hmac.new(self._hash_key, value.encode("utf-8"), hashlib.sha256).digest()

    def lookup_ref(self, value: str) -> str:
        """The lookup hash as events carry it (hex): it links a repeat caller without naming them."""
        return self.lookup_hash(value).hex()
