"""The sync engine in real browsers (SPEC R57, R111, R124, R131, R94a): a host and a viewer,
each in its own Chromium, on two server processes that share Redis.

Bounds here are loose on purpose (correctness, not speed): bench/sync_accuracy.py measures
the real figures.
"""

import re

import pytest

from tests import test_browser
from tests.support import ApiUser, join, wait_until
from tests.test_browser import Visitor, register_via_api, save_screenshot, wait_for_video

# The browser fixtures of tests/test_browser.py, offered to this module by name.
clip_url, launch, playwright_driver = (
    test_browser.clip_url,
    test_browser.launch,
    test_browser.playwright_driver,
)

pytestmark = pytest.mark.browser

#: [true time, currentTime, playbackRate, paused] of the page's video, read in the page.
READING = """() => {
  const video = document.querySelector("video");
  return [(performance.timeOrigin + performance.now()) / 1000, video.currentTime, video.playbackRate,
          video.paused];
}"""


def gap_between(first, second) -> float:
    """How far apart two pages' videos are, both brought to one instant."""
    (t1, p1, r1, paused1), (t2, p2, r2, paused2) = first.evaluate(READING), second.evaluate(READING)
    at = max(t1, t2)
    p1 += 0 if paused1 else r1 * (at - t1)
    p2 += 0 if paused2 else r2 * (at - t2)
    return abs(p1 - p2)


def test_a_ready_check_the_sync_panel_and_a_seek_in_two_browsers(
    fleet,
    redis_url,
    clip_url,
    launch,
    open_socket,
):
    from playwright.sync_api import expect

    host_server, viewer_server = fleet.pair(redis_url)
    host, viewer = Visitor(launch()), Visitor(launch())
    register_via_api(host, host_server.url, "Hana Host", "hana@example.com")
    media = {"provider": "direct", "type": "movie", "url": clip_url}
    body = {"title": "Sync", "media": media, "settings": {"start_when_ready": True}}
    csrf = host.context.request.get(host_server.url + "/api/auth/csrf/").json()["csrf_token"]
    created = host.context.request.post(
        host_server.url + "/api/rooms/", data=body, headers={"X-CSRFToken": csrf}
    )
    assert created.status == 201, created.text()
    code = created.json()["room"]["code"]
    host.page.goto(f"{host_server.url}/rooms/{code}")
    register_via_api(viewer, viewer_server.url, "Vic Viewer", "vic@example.com")
    viewer.page.goto(f"{viewer_server.url}/rooms/{code}")
    for page in (host.page, viewer.page):
        wait_for_video(page, lambda v: v["readyState"] >= 3, "the video loaded")

    # A third participant (a plain Socket.IO client) is not ready: the PLAY waits for it.
    slow = ApiUser(host_server.url).register(display_name="Sam Slow")
    join(slow, code)
    slow_socket = open_socket(viewer_server.url, slow.token(), code)
    slow_socket.emit("READY", {"ready": False})
    wait_until(lambda: slow_socket.call("SYNC_CHECK", {"time": 0}) is not None)
    host.page.get_by_role("button", name="Play", exact=True).click()
    for page in (host.page, viewer.page):
        expect(page.get_by_role("status", name="Ready check")).to_have_text(
            re.compile(r"^Waiting for 1 viewer… \d s$")
        )
    save_screenshot(viewer.page, "room-viewer-ready-check.png")
    assert wait_for_video(viewer.page, lambda v: True, "the viewer's video")["paused"] is True
    slow_socket.emit("READY", {"ready": True})
    for page in (host.page, viewer.page):
        expect(page.get_by_role("status", name="Ready check")).to_be_hidden()
        wait_for_video(page, lambda v: not v["paused"] and v["currentTime"] > 0.5, "playing after the check")

    # The host sees the viewer in "Sync health" (R131) and can resync them (R132).
    health = host.page.get_by_role("table", name="Sync health")
    expect(health.get_by_role("row", name=re.compile("Vic Viewer"))).to_contain_text(re.compile(r"-?\d+ ms"))
    host.page.get_by_role("button", name="Resync Vic Viewer").click()
    expect(viewer.page.get_by_role("table", name="Sync health")).to_have_count(0)
    expect(host.page.get_by_label("Speed")).to_have_value("1")

    # After a SEEK the viewer's player comes within 100 ms of the host's.
    host.page.get_by_label("Seek to (seconds)").fill("20")
    host.page.get_by_role("button", name="Seek", exact=True).click()
    for page in (host.page, viewer.page):
        wait_for_video(
            page, lambda v: not v["paused"] and 20 < v["currentTime"] < 40, "playing after the seek"
        )
    wait_until(
        lambda: gap_between(host.page, viewer.page) < 0.1, timeout=20, message="the players within 100 ms"
    )

    # Chat on the media timeline (R57): "at 0:2x" beside the message; a seek button for the host.
    viewer.page.get_by_label("Message").fill("look at this")
    viewer.page.get_by_role("button", name="Send").click()
    expect(viewer.page.get_by_role("log", name="Chat")).to_contain_text(
        re.compile(r"look at this .* at 0:2\d")
    )
    expect(host.page.get_by_role("button", name=re.compile(r"^at 0:2\d$"))).to_be_visible()
    save_screenshot(host.page, "room-host-sync.png")
    assert host.offsite == [] and viewer.offsite == []
