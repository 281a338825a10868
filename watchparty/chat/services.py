"""Chat rules: storage, history and refusals."""


def bootstrap_messages(room) -> list[dict]:
    """The newest CHAT_BOOTSTRAP_COUNT messages, oldest first, for CHAT_HISTORY."""
    return []


def recent_messages(room, limit: int | None) -> list[dict]:
    """The newest `limit` messages, oldest first (R26)."""
    return []
