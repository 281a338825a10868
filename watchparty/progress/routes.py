"""Watch progress endpoints (SPEC R80-R82)."""

from flask import Blueprint
from flask_login import current_user, login_required

from watchparty.progress import services
from watchparty.progress.schemas import ProgressBody
from watchparty.rooms.services import participant_room
from watchparty.validation import parse_body

bp = Blueprint("progress", __name__, url_prefix="/api/rooms")


@bp.put("/<code>/progress/")
@login_required
def save_progress(code: str):
    """Record the caller's position in the room's content."""
    room = participant_room(code, current_user)
    body = parse_body(ProgressBody)
    record = services.record_progress(
        current_user.id, room, body.position_seconds, body.duration_seconds, body.content_id
    )
    return {"progress": services.progress_payload(record)}


@bp.get("/<code>/progress/")
@login_required
def own_progress(code: str):
    """Return the caller's own progress in the room's content, or null."""
    room = participant_room(code, current_user)
    record = services.own_progress(current_user.id, room)
    return {"progress": services.progress_payload(record) if record else None}


@bp.get("/<code>/resume/")
@login_required
def resume(code: str):
    """Return where the caller should resume the room's content."""
    room = participant_room(code, current_user)
    return services.resume_point(current_user.id, room)
