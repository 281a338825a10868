"""Room endpoints (SPEC R20-R26)."""

from flask import Blueprint
from flask_login import current_user, login_required

from watchparty.moderation.services import refuse_if_banned
from watchparty.rooms import services
from watchparty.rooms.schemas import CreateRoomBody, MessagesQuery, PublicRoomsQuery, UpdateRoomBody
from watchparty.validation import parse_body, parse_query

bp = Blueprint("rooms", __name__, url_prefix="/api/rooms")


@bp.post("/")
@login_required
def create_room():
    """Create a room hosted by the caller."""
    body = parse_body(CreateRoomBody)
    settings = body.settings.changes() if body.settings is not None else None
    room = services.create_room(
        current_user, body.title, body.is_private, body.is_chat_enabled, body.media, settings
    )
    return {"room": services.room_payload_for(room, current_user)}, 201


@bp.get("/public/")
def public_rooms():
    """List the LIVE public rooms; no login needed."""
    query = parse_query(PublicRoomsQuery)
    return {"rooms": services.list_public_rooms(query.limit)}


@bp.get("/<code>/")
@login_required
def get_room(code: str):
    """Read a room; reading never changes its state. A banned user gets 403 `banned` (R105)."""
    room = services.open_room(code)
    refuse_if_banned(room, current_user.id)
    return {"room": services.room_payload_for(room, current_user)}


@bp.post("/<code>/join/")
@login_required
def join_room(code: str):
    """Join a room by code; joining again is harmless."""
    room, joined = services.join_room(code, current_user)
    return {"room": services.room_payload_for(room, current_user), "joined": joined}


@bp.patch("/<code>/")
@login_required
def update_room(code: str):
    """Change a room (host only)."""
    body = parse_body(UpdateRoomBody)
    room = services.update_room(code, current_user, body.changes())
    return {"room": services.room_payload_for(room, current_user)}


@bp.delete("/<code>/")
@login_required
def delete_room(code: str):
    """Delete a room for good (host only)."""
    services.delete_room(code, current_user)
    return "", 204


@bp.get("/<code>/messages/")
@login_required
def messages(code: str):
    """The room's newest chat messages, oldest first (participants only)."""
    room = services.participant_room(code, current_user)
    query = parse_query(MessagesQuery)
    return {"messages": services.recent_messages(room, query.limit)}
