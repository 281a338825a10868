"""Participants, roles and host handover (SPEC R101-R103)."""

from flask import Blueprint
from flask_login import current_user, login_required

from watchparty.roles import handover, participants
from watchparty.roles.permissions import Action, Role
from watchparty.roles.schemas import HandOverBody, RoleBody
from watchparty.rooms import services
from watchparty.validation import parse_body

bp = Blueprint("roles", __name__, url_prefix="/api/rooms")


@bp.get("/<code>/participants/")
@login_required
def list_participants(code: str):
    """Everyone who joined, host first, with role and whether connected (participants only)."""
    room = services.participant_room(code, current_user)
    return {"participants": participants.list_participants(room)}


@bp.patch("/<code>/participants/<int:user_id>/")
@login_required
def set_role(code: str, user_id: int):
    """The host names a cohost or makes one a viewer again; the room gets ROLE_CHANGED."""
    room = services.room_allowing(code, current_user, Action.SET_ROLES)
    body = parse_body(RoleBody)
    return {"participant": participants.set_role(room, user_id, Role(body.role))}


@bp.post("/<code>/host/")
@login_required
def hand_over(code: str):
    """The host hands the room to a connected participant and becomes a cohost."""
    room = services.room_allowing(code, current_user, Action.HAND_OVER)
    body = parse_body(HandOverBody)
    handover.hand_over(room, current_user, body.user_id)
    return {"room": services.room_payload_for(room, current_user)}
