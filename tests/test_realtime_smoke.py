from tests.support import ApiUser


def test_smoke(start_server, redis_url, open_socket):
    a = start_server(redis_url)
    b = start_server(redis_url)
    host = ApiUser(a.url).register()
    room = host.post("/api/rooms/", json={"title": "t"}).json()["room"]
    viewer = ApiUser(b.url).register()
    viewer.post(f"/api/rooms/{room['code']}/join/")
    hs = open_socket(a.url, host.token(), room["code"])
    hs.wait_for("PLAYBACK_STATE")
    vs = open_socket(b.url, viewer.token(), room["code"])
    vs.wait_for("PRESENCE")
    hs.wait_for("USER_JOINED")
    hs.emit("SEEK", {"time": 10})
    print(vs.wait_for("PLAYBACK_STATE", lambda p: p["version"] == 1))
    print(vs.call("SYNC_CHECK", {"time": 3}))
    hs.disconnect()
    print(vs.wait_for("HOST_DISCONNECTED"))
    print(vs.events)
