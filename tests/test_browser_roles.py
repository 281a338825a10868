"""Roles, the queue and kicking in real browsers (SPEC R94a, R100-R105, R150-R154).

Two headless Chromium browsers (Debian's, through Playwright) on two server processes
sharing Redis and a database; the clip and the helpers come from test_browser.py.
"""

import re

import pytest

from tests import test_browser as browser
from tests.support import ApiUser
from tests.test_browser import Visitor, register_via_api, save_screenshot, wait_for_video

# The browser, the clip server and the Playwright driver of test_browser.py, as fixtures here too.
clip_url, launch, playwright_driver = browser.clip_url, browser.launch, browser.playwright_driver

pytestmark = pytest.mark.browser


def test_a_cohost_seeks_for_everyone_a_queued_clip_plays_next_and_a_kick_removes(
    fleet,
    redis_url,
    clip_url,
    launch,
):
    from playwright.sync_api import expect

    a, b = fleet.pair(redis_url)
    host, viewer = Visitor(launch()), Visitor(launch())
    register_via_api(host, a.url, "Hana Host", "hana@example.com")
    register_via_api(viewer, b.url, "Bob", "bob@example.com")
    hana = ApiUser(a.url)  # her own session: issue 13 renews the browser's at register (R170)
    login = hana.post("/api/auth/login/", json={"email": "hana@example.com", "password": browser.PASSWORD})
    assert login.status_code == 200, login.text
    room = hana.post(
        "/api/rooms/",
        json={"title": "Roles", "media": {"provider": "direct", "type": "movie", "url": clip_url}},
    )
    assert room.status_code == 201, room.text
    code = room.json()["room"]["code"]
    host.page.goto(f"{a.url}/rooms/{code}")
    viewer.page.goto(f"{b.url}/rooms/{code}")
    expect(viewer.page.get_by_role("button", name="Seek")).to_be_hidden()

    # The host names Bob a cohost; Bob's Seek moves the host's player (R100, R102).
    host.page.get_by_role("button", name="Make cohost Bob").click()
    expect(host.page.get_by_role("list", name="Viewers")).to_contain_text("Bob (cohost)")
    viewer.page.get_by_label("Seek to (seconds)").fill("20")
    viewer.page.get_by_role("button", name="Seek").click()
    wait_for_video(host.page, lambda v: abs(v["currentTime"] - 20) < 2, "the host's player at 20 s")
    expect(viewer.page.get_by_role("button", name="Delete room")).to_be_hidden()

    # The host queues a second clip and plays it next; both pages follow (R152-R154).
    host.page.get_by_label("Video source").select_option("direct")
    host.page.get_by_label("Video link").fill(clip_url + "?second")
    host.page.get_by_label("Title").fill("Second clip")
    host.page.get_by_role("button", name="Add to queue").click()
    for page in (host.page, viewer.page):
        expect(page.get_by_role("list", name="Queue")).to_contain_text("Second clip")
    viewer.page.get_by_role("button", name="Play next").click()
    for page in (host.page, viewer.page):
        expect(page.locator("#video")).to_have_attribute("src", re.compile(r"\?second$"))
        expect(page.get_by_role("list", name="Queue").get_by_role("listitem")).to_have_count(0)
    save_screenshot(host.page, "room-roles-host.png")

    # The host hands over to Bob, who hands back: each page's "Hosted by" line follows (R103).
    host.page.get_by_role("button", name="Make host Bob").click()
    expect(viewer.page.locator(".room-meta")).to_contain_text("Hosted by Bob (you)")
    expect(host.page.locator(".room-meta")).to_contain_text("Hosted by Bob ·")
    viewer.page.get_by_role("button", name="Make host Hana Host").click()
    expect(host.page.locator(".room-meta")).to_contain_text("Hosted by Hana Host (you)")
    expect(viewer.page.locator(".room-meta")).to_contain_text("Hosted by Hana Host ·")
    save_screenshot(viewer.page, "room-roles-handed-back.png")

    # The host kicks Bob: his page says so and stays away (R105).
    host.page.get_by_role("button", name="Kick Bob").click()
    expect(viewer.page.get_by_text("You were removed from this room.")).to_be_visible()
    expect(host.page.get_by_role("list", name="Viewers")).not_to_contain_text("Bob")
    save_screenshot(viewer.page, "room-roles-kicked.png")
    assert host.offsite == [] and viewer.offsite == []
