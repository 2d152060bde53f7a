"""Password hashing with Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP ASVS 2.1.1: at least 12 characters.
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # stateless and thread-safe: parameters only

# Verified against when the username is unknown, so that a wrong username
# takes as long as a wrong password and does not reveal who has an account.
# Made on first use: hashing costs ~170 ms, which every process (each command, each worker) paid at import.
_DUMMY_HASH: str | None = None


def lower_cost_for_tests() -> None:
    """Argon2id at its lowest cost, for the test suite only: it checks behaviour, not cost, and makes thousands
    of accounts (about 60 ms each at the real cost). Hashes made either way verify under the other."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    _DUMMY_HASH = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; always spends the time of one verification."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("no-such-user-placeholder")
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
