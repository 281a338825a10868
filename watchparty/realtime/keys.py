"""Every Redis key name the project uses, in one place."""

LIMITER_PREFIX = "limiter"
PROCESS_HEARTBEATS = "proc:heartbeats"
EXPIRE_SWEEP_LOCK = "lock:expire-rooms"


def room_prefix(code: str) -> str:
    """Return the prefix shared by every key that belongs to one room."""
    return f"room:{code}:"


def room_presence(code: str) -> str:
    """Hash user_id -> number of that user's sockets in the room."""
    return f"room:{code}:presence"


def room_sockets(code: str) -> str:
    """Hash sid -> "process_id|user_id" for every socket in the room."""
    return f"room:{code}:sockets"


def room_grace(code: str) -> str:
    """Grace marker; its TTL alone times the host's grace (SPEC R40, R42)."""
    return f"room:{code}:grace"


def room_playback(code: str) -> str:
    """Cached playback snapshot (JSON), written only when its version is newer."""
    return f"room:{code}:playback"


def chat_rate(code: str, user_id: int) -> str:
    """Counter of one user's chat messages in the current rate window (SPEC R53)."""
    return f"room:{code}:chat-rate:{user_id}"


def chat_duplicate(code: str, user_id: int, digest: str) -> str:
    """Marker of a recently sent normalised chat text (SPEC R54)."""
    return f"room:{code}:chat-dup:{user_id}:{digest}"


def pause_budget(code: str, user_id: int) -> str:
    """Counter of one viewer's PAUSEs in the current budget window (SPEC R106)."""
    return f"room:{code}:pauses:{user_id}"


def skip_votes(code: str, media_version: int) -> str:
    """Set of the users who voted to skip one media version (SPEC R156)."""
    return f"room:{code}:skip:{media_version}"


def process_sockets(process_id: str) -> str:
    """Hash sid -> "room_code|user_id" for every socket held by one server process."""
    return f"proc:{process_id}:sockets"


def room_not_ready(code: str) -> str:
    """Hash sid -> user_id of the sockets whose last READY was false (SPEC R110)."""
    return f"room:{code}:not-ready"


def room_health(code: str) -> str:
    """Hash sid -> JSON {user_id, drift, rtt, buffering, at}: the last SYNC_CHECK (SPEC R130)."""
    return f"room:{code}:health"


def room_health_sent(code: str) -> str:
    """Slot marker: SYNC_HEALTH was sent in the current interval (SPEC R131)."""
    return f"room:{code}:health-sent"


def room_buffer_pause(code: str, user_id: int) -> str:
    """Slot marker: the user paused the room by buffering within 30 s (SPEC R112)."""
    return f"room:{code}:buffer-pause:{user_id}"


def room_ready_check(code: str) -> str:
    """The pending ready check (JSON), bound to a playback version (SPEC R111)."""
    return f"room:{code}:ready-check"
