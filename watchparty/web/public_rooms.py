"""The public rooms list of the index page (SPEC R25, R90)."""

from watchparty.rooms.services import list_public_rooms

INITIAL_LIMIT = 50


def initial_public_rooms() -> list[dict]:
    """Return the first render of the list, as PublicRoom dicts; the page script refreshes it."""
    return list_public_rooms(limit=INITIAL_LIMIT)
