"""Where a form may send the user afterwards: local paths only (SPEC R91)."""

from urllib.parse import urlsplit

MAX_NEXT_LENGTH = 2000


def safe_next_path(value: str | None) -> str | None:
    """Return value if it is a path on this site, else None.

    Refused: anything not starting with a single "/", "//host", backslashes (browsers read them
    as "/"), control characters (browsers drop tabs and newlines, turning "/\\t/x" into "//x"),
    and anything with a scheme or host.
    """
    if not value or len(value) > MAX_NEXT_LENGTH or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value
