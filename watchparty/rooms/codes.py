"""Room codes: 8 characters of an alphabet without look-alikes (SPEC R20)."""

import secrets

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 8


def new_code() -> str:
    """Return a random room code from `secrets`."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(raw: str) -> str | None:
    """Return the canonical (upper-case) code, or None if it cannot be a code."""
    code = raw.strip()
    # Check before upper-casing: str.upper() maps some non-ASCII letters to ASCII (U+017F long s -> "S").
    if not code.isascii():
        return None
    code = code.upper()
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        return None
    return code
