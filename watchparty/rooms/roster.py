"""Who is here, as the PRESENCE payload names them (R32, R100a)."""

from sqlalchemy import select

from watchparty.auth.models import User
from watchparty.extensions import db
from watchparty.roles import services as roles
from watchparty.rooms.models import Room


def presence_payload(room: Room, present_user_ids: list[int]) -> dict:
    """Who is connected to the room, host marked, each with a role (R32, R100a).

    `present_user_ids`: the ids the realtime store holds, read with the rest of the room's view.
    """
    user_ids = sorted(present_user_ids)
    names = display_names(user_ids)
    cohost_ids = roles.cohost_ids(room.id)
    return {
        "viewer_count": len(user_ids),
        "users": [
            {
                "id": user_id,
                "display_name": names[user_id],
                "is_host": user_id == room.host_id,
                "role": role_name(room, user_id, cohost_ids),
            }
            for user_id in user_ids
            if user_id in names
        ],
        "host_connected": room.host_id in user_ids,
    }


_display_names: dict[int, str] = {}
DISPLAY_NAME_CACHE_SIZE = 100_000


def display_names(user_ids: list[int]) -> dict[int, str]:
    """Display names by id; names never change, so this process remembers them.

    Without the cache every connect would load the whole room's users again,
    which makes filling a large room quadratic.
    """
    missing = [user_id for user_id in user_ids if user_id not in _display_names]
    if missing:
        if len(_display_names) > DISPLAY_NAME_CACHE_SIZE:
            _display_names.clear()
        rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(missing)))
        _display_names.update({row.id: row.display_name for row in rows})
    return {user_id: _display_names[user_id] for user_id in user_ids if user_id in _display_names}


def role_name(room: Room, user_id: int, cohost_ids: set[int]) -> str:
    """host, cohost or viewer, from ids already read."""
    if user_id == room.host_id:
        return "host"
    return "cohost" if user_id in cohost_ids else "viewer"
