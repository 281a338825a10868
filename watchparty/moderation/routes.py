"""Kick, ban, unban and the bans list (SPEC R105)."""

from flask import Blueprint
from flask_login import current_user, login_required

from watchparty.moderation import services as moderation
from watchparty.rooms.services import open_room

bp = Blueprint("moderation", __name__, url_prefix="/api/rooms")


@bp.post("/<code>/participants/<int:user_id>/<any(kick, ban):action>/")
@login_required
def remove(code: str, user_id: int, action: str):
    """Kick (KICKED `kicked`, they may come back) or ban (KICKED `banned`, refused until unbanned)."""
    moderation.remove(open_room(code), current_user, user_id, banned=action == "ban")
    return "", 204


@bp.delete("/<code>/participants/<int:user_id>/ban/")
@login_required
def unban(code: str, user_id: int):
    """Lift the user's ban."""
    moderation.unban(open_room(code), current_user, user_id)
    return "", 204


@bp.get("/<code>/bans/")
@login_required
def bans(code: str):
    """Who is banned, by whom and when (host, cohosts)."""
    return {"bans": moderation.list_bans(open_room(code), current_user)}
