"""The permission table of R100, row by row (pure: no app needed)."""

import pytest

from watchparty.roles.permissions import Action, Role, can, moderation_action

HOST, COHOST, VIEWER = Role.HOST, Role.COHOST, Role.VIEWER

# action: (host, cohost, viewer) without conditions
TABLE = {
    Action.COMMAND_PLAYBACK: (True, True, False),
    Action.PAUSE_ON_BUDGET: (False, False, True),
    Action.EDIT_ROOM: (True, False, False),
    Action.TOGGLE_CHAT: (True, True, False),
    Action.QUEUE_ADD: (True, True, False),
    Action.QUEUE_REMOVE: (True, True, False),
    Action.QUEUE_MOVE: (True, True, False),
    Action.QUEUE_NEXT: (True, True, False),
    Action.MODERATE_VIEWER: (True, True, False),
    Action.MODERATE_COHOST: (True, False, False),
    Action.SET_ROLES: (True, False, False),
    Action.HAND_OVER: (True, False, False),
    Action.DELETE_ROOM: (True, False, False),
    Action.RESYNC: (True, True, False),
    Action.RECEIVE_SYNC_HEALTH: (True, True, False),
}


@pytest.mark.parametrize(("action", "rights"), TABLE.items())
def test_each_row_of_the_table(action, rights):
    assert (can(HOST, action), can(COHOST, action), can(VIEWER, action)) == rights
    assert can(None, action) is False


def test_every_action_has_a_row():
    assert set(TABLE) == set(Action)


def test_viewers_add_to_an_open_queue_and_remove_their_own_items():
    assert can(VIEWER, Action.QUEUE_ADD, queue_open=True)
    assert can(VIEWER, Action.QUEUE_REMOVE, own_item=True)
    assert not can(VIEWER, Action.QUEUE_MOVE, queue_open=True, own_item=True)
    assert not can(None, Action.QUEUE_ADD, queue_open=True)


def test_who_may_be_removed_depends_on_the_target_role():
    assert moderation_action(VIEWER) is Action.MODERATE_VIEWER
    assert moderation_action(COHOST) is Action.MODERATE_COHOST
    assert moderation_action(HOST) is None
