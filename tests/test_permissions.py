"""The permission table of R100, row by row: as a table, then over HTTP and sockets on two processes."""

import pytest
import socketio

from tests.support import ApiUser, RoomSocket, create_room, join
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


# the same table over HTTP and sockets, two processes ---------------------------------------

MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}
CALLERS = ("host", "cohost", "viewer", "stranger", "anonymous")
# action: the status each caller gets, in CALLERS order; run in this order on a fresh room
HTTP_ROWS = {
    "PATCH title": (200, 403, 403, 403, 401),
    "PATCH is_chat_enabled": (200, 200, 403, 403, 401),
    "add to the queue": (201, 201, 403, 403, 401),
    "move in the queue": (200, 200, 403, 403, 401),
    "play next": (200, 200, 403, 403, 401),
    "list bans": (200, 200, 403, 403, 401),
    "kick a viewer": (204, 204, 403, 403, 401),
    "name a cohost": (200, 403, 403, 403, 401),
    "hand over (to someone not connected)": (409, 403, 403, 403, 401),
    "delete the room": (204, 403, 403, 403, 401),
}


def room_with_everyone(base_url: str):
    """A room with a host, a cohost, a viewer, a second viewer (the target) and a queued item."""
    users = {
        name: ApiUser(base_url).register() for name in ("host", "cohost", "viewer", "target", "stranger")
    }
    users["anonymous"] = ApiUser(base_url)
    code = create_room(users["host"], media=MOVIE)
    for name in ("cohost", "viewer", "target"):
        join(users[name], code)
    cohost_id = users["cohost"].user["id"]
    users["host"].patch(f"/api/rooms/{code}/participants/{cohost_id}/", json={"role": "cohost"})
    item = users["host"].post(f"/api/rooms/{code}/queue/", json={"media": MOVIE}).json()["item"]
    return code, users, item["id"]


def call(action: str, caller, code: str, target_id: int, item_id: int):
    room = f"/api/rooms/{code}/"
    return {
        "PATCH title": lambda: caller.patch(room, json={"title": "t"}),
        "PATCH is_chat_enabled": lambda: caller.patch(room, json={"is_chat_enabled": False}),
        "add to the queue": lambda: caller.post(room + "queue/", json={"media": MOVIE}),
        "move in the queue": lambda: caller.post(room + f"queue/{item_id}/move/", json={"index": 0}),
        "play next": lambda: caller.post(room + "queue/next/"),
        "list bans": lambda: caller.get(room + "bans/"),
        "kick a viewer": lambda: caller.post(room + f"participants/{target_id}/kick/"),
        "name a cohost": lambda: caller.patch(room + f"participants/{target_id}/", json={"role": "cohost"}),
        "hand over (to someone not connected)": lambda: caller.post(
            room + "host/", json={"user_id": target_id}
        ),
        "delete the room": lambda: caller.delete(room),
    }[action]()


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_over_http(module_pair, caller):
    code, users, item_id = room_with_everyone(module_pair[0].url)
    target_id = users["target"].user["id"]
    got = {action: call(action, users[caller], code, target_id, item_id).status_code for action in HTTP_ROWS}
    expected = {action: statuses[CALLERS.index(caller)] for action, statuses in HTTP_ROWS.items()}
    assert got == expected


def test_each_caller_over_sockets(module_pair, open_socket):
    a, b = module_pair
    code, users, _ = room_with_everyone(a.url)
    sockets = {
        name: open_socket((a, b)[i % 2].url, users[name].token(), code)
        for i, name in enumerate(("host", "cohost", "viewer"))
    }
    for seconds, name in enumerate(("viewer", "cohost", "viewer", "host"), start=10):
        sockets[name].emit("SEEK", {"time": seconds})
    sockets["viewer"].emit("PAUSE")  # the room gives viewers no pauses: ignored (R106)
    sockets["host"].emit("SEEK", {"time": 99})
    for version in (1, 2, 3):
        sockets["viewer"].wait_for("PLAYBACK_STATE", lambda p, v=version: p["version"] == v)
    # Versions may arrive out of order across processes (R39): compare them in version order.
    seeks = sorted((p["version"], p["time"]) for p in sockets["viewer"].received("PLAYBACK_STATE"))
    # The cohost's and the host's SEEKs race on two processes: each is applied once, in either order.
    assert [version for version, _ in seeks] == [0, 1, 2, 3]
    assert sorted(time for _, time in seeks) == [0, 11, 13, 99]
    assert users["host"].get(f"/api/rooms/{code}/").json()["room"]["playback"]["version"] == 3
    refusals = {}
    for name in ("stranger", "anonymous"):
        token = users[name].token() if name == "stranger" else "not-a-token"
        sock = RoomSocket(b.url, token, code)
        with pytest.raises(socketio.exceptions.ConnectionError):
            sock.connect()
        refusals[name] = sock.connect_error["code"]
    assert refusals == {"stranger": "not_a_participant", "anonymous": "unauthorized"}
