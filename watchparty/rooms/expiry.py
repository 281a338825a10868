"""Expiring abandoned rooms from outside the server (`flask expire-rooms`, SPEC R44)."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from watchparty.database import utcnow
from watchparty.extensions import db, realtime
from watchparty.roles import handover
from watchparty.rooms import closing, grace
from watchparty.rooms.lifecycle import RoomState
from watchparty.rooms.models import Room


def grace_lapsed(room: Room) -> bool:
    """Redis: the grace key is gone and no time remains (R179). In-process store: by the clock."""
    if realtime.is_shared:
        return not grace.grace_is_running(room)
    return grace.remaining_seconds(room) <= 0


def lapsed_rooms() -> list[Room]:
    """GRACE rooms whose grace is over and CREATED rooms older than CREATED_ROOM_TTL_SECONDS."""
    ttl = timedelta(seconds=float(current_app.config["CREATED_ROOM_TTL_SECONDS"]))
    in_grace = db.session.scalars(select(Room).where(Room.state == RoomState.GRACE.value)).all()
    stale_created = db.session.scalars(
        select(Room).where(Room.state == RoomState.CREATED.value, Room.created_at < utcnow() - ttl)
    ).all()
    return [room for room in in_grace if grace_lapsed(room)] + list(stale_created)


def expire_rooms(dry_run: bool = False) -> tuple[int, int]:
    """Expire every lapsed room once, or hand it to a connected cohost (R44, R104).

    Returns (expired, handed over) by this run. Without Redis the CLI cannot
    see who is connected, so it only expires; the server hands over.
    """
    rooms = lapsed_rooms()
    if dry_run:
        handing = sum(1 for room in rooms if can_hand_over(room) and handover.has_connected_cohost(room))
        return len(rooms) - handing, handing
    expired = handed = 0
    for room in rooms:
        if can_hand_over(room) and handover.hand_to_successor(room):
            handed += 1
        elif Room.transition(room.id, RoomState(room.state), RoomState.EXPIRED, closed_at=utcnow()):
            closing.close_room(room.code, reason="expired")
            expired += 1
    return expired, handed


def can_hand_over(room: Room) -> bool:
    """Only a GRACE room seen through Redis has a successor to find."""
    return realtime.is_shared and room.state == RoomState.GRACE
