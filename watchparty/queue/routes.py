"""The room queue, next and vote-skip (SPEC R151-R156)."""

from flask import Blueprint
from flask_login import current_user, login_required

from watchparty.queue import advance, services, voting
from watchparty.queue.schemas import AddItemBody, MoveBody
from watchparty.roles.permissions import Action
from watchparty.rooms import services as rooms
from watchparty.validation import parse_body

bp = Blueprint("queue", __name__, url_prefix="/api/rooms/<code>/queue")


@bp.get("/")
@login_required
def read_queue(code: str):
    """The queue in play order with its version (participants)."""
    return services.read_queue(rooms.participant_room(code, current_user))


@bp.post("/")
@login_required
def add_item(code: str):
    """Append media to the queue; the room gets QUEUE_UPDATED."""
    room = rooms.participant_room(code, current_user)
    body = parse_body(AddItemBody)
    return services.add_item(room, current_user, body.media, body.title), 201


@bp.delete("/<int:item_id>/")
@login_required
def remove_item(code: str, item_id: int):
    """Take an item out of the queue."""
    services.remove_item(rooms.participant_room(code, current_user), current_user, item_id)
    return "", 204


@bp.post("/<int:item_id>/move/")
@login_required
def move_item(code: str, item_id: int):
    """Move an item to a 0-based index, clamped to the queue."""
    room = rooms.room_allowing(code, current_user, Action.QUEUE_MOVE)
    body = parse_body(MoveBody)
    return services.move_item(room, current_user, item_id, body.index)


@bp.post("/next/")
@login_required
def play_next(code: str):
    """The first item becomes the room's media (host, cohosts)."""
    room = rooms.room_allowing(code, current_user, Action.QUEUE_NEXT)
    advance.play_next(room)
    return {"room": rooms.room_payload_for(room, current_user)}


@bp.post("/skip/")
@login_required
def vote_to_skip(code: str):
    """Vote to skip the current media; enough votes advance the room once."""
    room = rooms.participant_room(code, current_user)
    seen = room.media_version
    votes, needed, added = voting.cast_vote(room, current_user)
    skipped = added and votes >= needed and advance.skip(room, seen)
    return {"votes": votes, "needed": needed, "skipped": skipped}
