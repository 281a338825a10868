"""Who may do what in a room: the permission table of SPEC R100, in one place.

Pure Python: HTTP routes and socket handlers alike ask `can(role, action)`.
"""

from enum import StrEnum


class Role(StrEnum):
    HOST = "host"
    COHOST = "cohost"
    VIEWER = "viewer"


class Action(StrEnum):
    COMMAND_PLAYBACK = "command_playback"  # PLAY, PAUSE, SEEK, RATE (R38, R123)
    PAUSE_ON_BUDGET = "pause_on_budget"  # a viewer's PAUSE, counted against R106's budget
    EDIT_ROOM = "edit_room"  # PATCH title, is_private, media, settings (R23, R107)
    TOGGLE_CHAT = "toggle_chat"  # PATCH is_chat_enabled
    QUEUE_ADD = "queue_add"  # R152; viewers when queue_mode is "open"
    QUEUE_REMOVE = "queue_remove"  # R152; viewers their own items
    QUEUE_MOVE = "queue_move"
    QUEUE_NEXT = "queue_next"  # R154
    MODERATE_VIEWER = "moderate_viewer"  # kick, ban, unban a viewer; list bans (R105)
    MODERATE_COHOST = "moderate_cohost"  # kick or ban a cohost
    SET_ROLES = "set_roles"  # R102
    HAND_OVER = "hand_over"  # R103
    DELETE_ROOM = "delete_room"  # R24
    RESYNC = "resync"  # R132
    RECEIVE_SYNC_HEALTH = "receive_sync_health"  # R131


class Condition(StrEnum):
    """A viewer's right that depends on the room or the item."""

    QUEUE_OPEN = "queue_open"
    OWN_ITEM = "own_item"


Right = bool | Condition
STAFF: dict[Role, Right] = {Role.HOST: True, Role.COHOST: True, Role.VIEWER: False}
HOST_ONLY: dict[Role, Right] = {Role.HOST: True, Role.COHOST: False, Role.VIEWER: False}

TABLE: dict[Action, dict[Role, Right]] = {
    Action.COMMAND_PLAYBACK: STAFF,
    Action.PAUSE_ON_BUDGET: {Role.HOST: False, Role.COHOST: False, Role.VIEWER: True},
    Action.EDIT_ROOM: HOST_ONLY,
    Action.TOGGLE_CHAT: STAFF,
    Action.QUEUE_ADD: {**STAFF, Role.VIEWER: Condition.QUEUE_OPEN},
    Action.QUEUE_REMOVE: {**STAFF, Role.VIEWER: Condition.OWN_ITEM},
    Action.QUEUE_MOVE: STAFF,
    Action.QUEUE_NEXT: STAFF,
    Action.MODERATE_VIEWER: STAFF,
    Action.MODERATE_COHOST: HOST_ONLY,
    Action.SET_ROLES: HOST_ONLY,
    Action.HAND_OVER: HOST_ONLY,
    Action.DELETE_ROOM: HOST_ONLY,
    Action.RESYNC: STAFF,
    Action.RECEIVE_SYNC_HEALTH: STAFF,
}


def can(role: Role | str | None, action: Action, *, queue_open: bool = False, own_item: bool = False) -> bool:
    """Return True if a participant with `role` may take `action`; None (no participant) never may."""
    if role is None:
        return False
    right = TABLE[action][Role(role)]
    if right is Condition.QUEUE_OPEN:
        return queue_open
    if right is Condition.OWN_ITEM:
        return own_item
    return right


def moderation_action(target_role: Role | str) -> Action | None:
    """The right needed to kick or ban someone with this role; None for the host (R105)."""
    return {Role.VIEWER: Action.MODERATE_VIEWER, Role.COHOST: Action.MODERATE_COHOST}.get(Role(target_role))
