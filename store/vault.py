"""The vault: connections' secrets encrypted at rest with Fernet (AES-128-CBC and HMAC-SHA256).

`FLOWDECK_SECRET_KEYS` holds one or more Fernet keys, comma-separated. The first encrypts;
every one decrypts, so a key is rotated by putting a new one first, re-encrypting every
secret (`flowdeck connections rotate-key`), then removing the old one.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from schemas.settings import Settings

KEYS_VARIABLE = "FLOWDECK_SECRET_KEYS"


class VaultNotConfigured(RuntimeError):
    """No key to encrypt or decrypt with: the message names the variable to set."""


class UndecryptableSecret(RuntimeError):
    """A secret none of the configured keys decrypts (its key was removed too early)."""


def new_key() -> str:
    """A fresh Fernet key (32 random bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


class Vault:
    """Encrypts and decrypts secrets (JSON objects of strings) with the configured keys."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise VaultNotConfigured(f"{KEYS_VARIABLE} holds no key")
        fernets = []
        for index, key in enumerate(keys):
            try:
                fernets.append(Fernet(key.encode()))
            except ValueError:
                # Never the key itself in the message: only which one is wrong.
                raise VaultNotConfigured(
                    f"key {index + 1} of {KEYS_VARIABLE} is not a Fernet key "
                    "(32 bytes in URL-safe base64; `flowdeck connections new-key` makes one)"
                ) from None
        self._fernet = MultiFernet(fernets)

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        if settings.secret_keys is None:
            raise VaultNotConfigured(
                f"{KEYS_VARIABLE} is not set: connections' secrets cannot be encrypted or read"
            )
        keys = [k.strip() for k in settings.secret_keys.get_secret_value().split(",")]
        return cls([k for k in keys if k])

    def encrypt(self, secret: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(secret, sort_keys=True).encode()).decode()

    def decrypt(self, token: str) -> dict[str, str]:
        try:
            plain = self._fernet.decrypt(token.encode())
        except InvalidToken:
            raise UndecryptableSecret(
                f"no key of {KEYS_VARIABLE} decrypts this secret: was the key that encrypted it "
                "removed before `flowdeck connections rotate-key` ran?"
            ) from None
        value: dict[str, str] = json.loads(plain)
        return value

    def rotate(self, token: str) -> str:
        """The same secret encrypted with the first key (unchanged if it already is)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret(
                f"no key of {KEYS_VARIABLE} decrypts this secret: it cannot be re-encrypted"
            ) from None
