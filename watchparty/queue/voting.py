"""Vote-skip: one vote per user per media version, counted atomically (SPEC R156)."""

import math

from watchparty.auth.models import User
from watchparty.domain_errors import DomainError, Kind
from watchparty.extensions import realtime
from watchparty.roles.participants import NotConnected, connected_user_ids
from watchparty.roles.settings import effective_settings
from watchparty.rooms import broadcast
from watchparty.rooms.models import Room

# Votes outlive any media version worth voting on; the room's closing removes them earlier.
VOTES_TTL_SECONDS = 86400


def votes_needed(room: Room, viewers: int) -> int | None:
    """max(1, ceil(ratio * viewers)); None while vote-skip is off."""
    ratio = effective_settings(room.settings)["skip_vote_ratio"]
    return None if ratio is None else max(1, math.ceil(ratio * viewers))


def votes_payload(room: Room) -> dict:
    """SKIP_VOTES `{votes, needed}` for the room's current media."""
    votes = realtime.skip_votes(room.code, room.media_version)
    return counted_votes(room, votes, realtime.viewer_count(room.code))


def counted_votes(room: Room, votes: int, viewers: int) -> dict:
    """SKIP_VOTES `{votes, needed}` from counts already read (a connecting socket's, R156)."""
    return {"votes": votes, "needed": votes_needed(room, viewers)}


def announce_votes(room: Room) -> None:
    """Send SKIP_VOTES to the room."""
    broadcast.skip_votes(room.code, votes_payload(room))


def cast_vote(room: Room, user: User) -> tuple[int, int, bool]:
    """Count the user's vote for the current media; (votes, needed, new vote?)."""
    if user.id not in connected_user_ids(room.code):
        raise NotConnected("Connect to the room before voting.")
    if room.media is None:
        raise DomainError(Kind.CONFLICT, "The room has no media to skip.", code="no_media")
    needed = votes_needed(room, realtime.viewer_count(room.code))
    if needed is None:
        raise DomainError(Kind.FORBIDDEN, "Vote-skip is off in this room.", code="skip_disabled")
    added, votes = realtime.add_skip_vote(room.code, room.media_version, user.id, VOTES_TTL_SECONDS)
    if added:
        broadcast.skip_votes(room.code, {"votes": votes, "needed": needed})
    return votes, needed, added
