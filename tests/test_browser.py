"""The web pages in a real browser (SPEC R74, R90-R94).

Headless Debian Chromium (/usr/bin/chromium, installed by scripts/test.sh), driven by Playwright,
against real `python wsgi.py` processes that share Redis and a database: the host on one process,
the viewer on the other. The video is tests/media/clip.webm (60 s, VP8 + Opus, made by
tests/media/make_clip.sh), served by this module on 127.0.0.1 with Range support. Every browser
context aborts and records any request that would leave 127.0.0.1.
"""

import contextlib
import http.server
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.support import ROOT, ApiUser, wait_until

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"
CLIP = Path(__file__).resolve().parent / "media" / "clip.webm"
ARTIFACTS = ROOT / "test-artifacts"
DOCS_SCREENSHOT = ROOT / "docs" / "room-page.png"
PASSWORD = "correct horse"
XSS = "<img src=x onerror=alert(1)>"
DEADLINE_MS = 20_000
ROOM_URL = re.compile(r"/rooms/([A-Z2-9]{8})$")


# the video file ------------------------------------------------------------------------


class ClipHandler(http.server.BaseHTTPRequestHandler):
    """Serve the clip with byte ranges: Chromium needs them to seek."""

    clip = b""

    def do_GET(self):
        self.send_clip(with_body=True)

    def do_HEAD(self):
        self.send_clip(with_body=False)

    def send_clip(self, with_body: bool) -> None:
        if urlsplit(self.path).path != "/clip.webm":
            self.send_error(404)
            return
        size = len(self.clip)
        start, end, status = 0, size - 1, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if match and (match[1] or match[2]):
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
            else:
                start = max(0, size - int(match[2]))
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "video/webm")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        # The browser may hang up once it has what it needs.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            if with_body:
                self.wfile.write(self.clip[start : end + 1])

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def clip_url() -> Iterator[str]:
    """The test clip's URL on a threaded HTTP server of this module, on 127.0.0.1."""
    handler = type("Handler", (ClipHandler,), {"clip": CLIP.read_bytes()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/clip.webm"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def playwright_driver():
    """Playwright's driver, with Debian's Chromium: a missing browser fails, it never skips."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need Debian's chromium "
            "package (scripts/test.sh installs it with apt-get install chromium)",
            pytrace=False,
        )
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=DEADLINE_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def launch(playwright_driver) -> Iterator[Callable]:
    """Launch headless Chromium (with autoplay allowed unless autoplay=False); closed after the test."""
    browsers = []

    def start(autoplay: bool = True):
        args = CHROMIUM_ARGS + ([AUTOPLAY] if autoplay else [])
        browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        browser.close()


class Visitor:
    """One browser context (its own cookies) whose requests may not leave 127.0.0.1."""

    def __init__(self, browser, allowed_hosts: tuple[str, ...] = ()):
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.context.set_default_timeout(DEADLINE_MS)
        self.allowed_hosts = allowed_hosts
        self.offsite: list[str] = []
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.page.on("dialog", self._dialog)

    def _guard(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            self.offsite.append(route.request.url)
            route.abort()
            return
        route.continue_()

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


# forms -----------------------------------------------------------------------------------


def register(page, base: str, name: str, email: str, password: str = PASSWORD) -> None:
    """Register through the form; the new account is logged in and sent to the index."""
    page.goto(base + "/register")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Display name").fill(name)
    page.get_by_role("button", name="Register").click()


def register_via_api(visitor: Visitor, base: str, name: str, email: str) -> None:
    """Register with the context's own cookies, without touching the page (no user gesture)."""
    request = visitor.context.request
    csrf = request.get(base + "/api/auth/csrf/").json()["csrf_token"]
    body = {"email": email, "password": PASSWORD, "display_name": name}
    response = request.post(base + "/api/auth/register/", data=body, headers={"X-CSRFToken": csrf})
    assert response.status == 201, response.text()


def video_state(page) -> dict | None:
    return page.evaluate(
        """() => {
            const video = document.querySelector("#video");
            return video && {currentTime: video.currentTime, paused: video.paused,
                             readyState: video.readyState, controls: video.controls};
        }"""
    )


def wait_for_video(page, predicate, what: str) -> dict:
    """Poll the page's <video> until predicate holds: correctness, not speed, is tested."""
    found: list[dict | None] = [None]

    def check():
        found[0] = video_state(page)
        return found[0] is not None and predicate(found[0])

    try:
        wait_until(check, timeout=DEADLINE_MS / 1000, interval=0.1, message=what)
    except AssertionError as error:
        raise AssertionError(f"{error}; the video was {found[0]}") from None
    return found[0]


def viewer_names(page):
    """Each person in "Viewers" as "Name (role)", without the buttons beside them (R94a)."""
    return page.get_by_role("list", name="Viewers").locator(".person")


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


# tests -------------------------------------------------------------------------------------


def test_host_and_viewer_watch_chat_and_close_a_room(fleet, redis_url, clip_url, launch):
    from playwright.sync_api import expect

    host_server, viewer_server = fleet.pair(redis_url)
    browser = launch()
    host, viewer = Visitor(browser), Visitor(browser)
    page = host.page

    # Register (a short password first), log out, and log in again, all through the forms.
    register(page, host_server.url, "Hana Host", "hana@example.com", password="short")
    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-error")).to_contain_text("Use at least 8 characters")
    password.fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(host_server.url + "/")
    page.goto(host_server.url + "/logout")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(host_server.url + "/")
    page.goto(host_server.url + "/login")
    page.get_by_label("Email").fill("hana@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(host_server.url + "/")
    expect(page.locator(".account-name")).to_have_text("Hana Host")

    # A bad video URL is refused next to its field; then the room is created.
    page.get_by_label("Title (optional)").fill("Friday <b>film</b> night")
    page.get_by_label("Video file URL", exact=True).check()
    page.get_by_label("Video URL (http or https)").fill("javascript:alert(1)")
    with page.expect_response(lambda response: response.url.endswith("/rooms/new")) as refused:
        page.get_by_role("button", name="Create room").click()
    assert refused.value.status == 400
    expect(page.locator("#media_url-error")).to_contain_text("starting with http:// or https://")
    expect(page.get_by_label("Title (optional)")).to_have_value("Friday <b>film</b> night")
    page.get_by_label("Video URL (http or https)").fill(clip_url)
    page.get_by_role("button", name="Create room").click()
    page.wait_for_url(ROOM_URL)
    code = ROOM_URL.search(page.url).group(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Friday <b>film</b> night")
    expect(page.locator("#connection")).to_have_text("Connected.")
    expect(viewer_names(page)).to_have_text(["Hana Host (host)"])
    assert (
        page.get_by_role("textbox", name="Link to this room").input_value()
        == f"{host_server.url}/rooms/{code}"
    )

    # The viewer registers on the other process and joins by code.
    vpage = viewer.page
    register(vpage, viewer_server.url, "Vic Viewer", "vic@example.com")
    vpage.wait_for_url(viewer_server.url + "/")
    vpage.get_by_label("Room code").fill(code.lower())
    vpage.get_by_role("button", name="Join").click()
    vpage.wait_for_url(f"{viewer_server.url}/rooms/{code}")
    expect(vpage.locator("#connection")).to_have_text("Connected.")
    for each in (page, vpage):
        expect(viewer_names(each)).to_have_text(["Hana Host (host)", "Vic Viewer"])
    expect(vpage.get_by_role("button", name="Play", exact=True)).to_have_count(0)
    assert (
        wait_for_video(vpage, lambda v: v["readyState"] >= 1, "the viewer's video metadata")["controls"]
        is False
    )

    # Play, seek and pause on the host's page; the viewer's <video> follows.
    playback = vpage.get_by_role("status", name="Playback")
    expect(playback).to_have_text("Paused at 0:00")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(playback).to_contain_text("Playing")
    wait_for_video(vpage, lambda v: not v["paused"] and v["currentTime"] > 0.5, "the viewer playing")
    page.get_by_label("Seek to (seconds)").fill("30")
    page.get_by_role("button", name="Seek", exact=True).click()
    wait_for_video(vpage, lambda v: not v["paused"] and 30 <= v["currentTime"] < 40, "the viewer at 30 s")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(playback).to_have_text(re.compile(r"^Paused at 0:3\d$"))
    expect(page.get_by_role("status", name="Playback")).to_have_text(re.compile(r"^Paused at 0:3\d$"))
    paused = wait_for_video(vpage, lambda v: v["paused"], "the viewer paused")
    host_video = wait_for_video(page, lambda v: v["paused"], "the host paused")
    assert abs(paused["currentTime"] - host_video["currentTime"]) < 0.5
    minutes, seconds = playback.text_content().rsplit(" ", 1)[1].split(":")
    assert abs(paused["currentTime"] - (int(minutes) * 60 + int(seconds))) < 1.5

    # Chat both ways; markup is shown as text and runs nothing.
    host_log, viewer_log = page.get_by_role("log", name="Chat"), vpage.get_by_role("log", name="Chat")
    page.get_by_label("Message").fill("Hello from the host")
    page.get_by_role("button", name="Send").click()
    expect(viewer_log).to_contain_text("Hana Host: Hello from the host")
    vpage.get_by_label("Message").fill(XSS)
    vpage.get_by_role("button", name="Send").click()
    for log in (host_log, viewer_log):
        expect(log).to_contain_text(f"Vic Viewer: {XSS}")
        expect(log.locator("img")).to_have_count(0)

    # Keyboard only: Tab from the chat log to the Message input, type, Enter.
    vpage.get_by_role("log", name="Chat").focus()
    vpage.keyboard.press("Tab")
    assert vpage.evaluate("document.activeElement.id") == "chat-input"
    vpage.keyboard.type("Sent with the keyboard only")
    vpage.keyboard.press("Enter")
    expect(host_log).to_contain_text("Vic Viewer: Sent with the keyboard only")
    expect(vpage.get_by_label("Message")).to_have_value("")

    # The host turns chat off: the viewer's message is refused in words, then chat comes back.
    page.get_by_role("button", name="Disable chat").click()
    expect(page.get_by_role("button", name="Enable chat")).to_be_visible()
    expect(vpage.get_by_text("The host turned chat off.")).to_be_visible()
    vpage.get_by_label("Message").fill("Anyone there?")
    vpage.get_by_label("Message").press("Enter")
    expect(vpage.get_by_role("alert").filter(has_text="Chat is disabled")).to_have_text(
        "Chat is disabled in this room."
    )
    expect(vpage.get_by_label("Message")).to_have_value("Anyone there?")
    page.get_by_role("button", name="Enable chat").click()
    expect(page.get_by_role("button", name="Disable chat")).to_be_visible()
    expect(vpage.get_by_text("The host turned chat off.")).to_be_hidden()
    expect(vpage.locator("#chat-error")).to_have_text("")

    # A third user comes and goes: the Viewers lists follow, across both processes.
    third = Visitor(browser)
    register_via_api(third, host_server.url, "Theo Third", "theo@example.com")
    third.page.goto(f"{host_server.url}/rooms/{code}")
    for each in (page, vpage):
        expect(viewer_names(each)).to_have_text(["Hana Host (host)", "Vic Viewer", "Theo Third"])
    third.close()
    for each in (page, vpage):
        expect(viewer_names(each)).to_have_text(["Hana Host (host)", "Vic Viewer"])

    host_shot = save_screenshot(page, "room-host.png")
    save_screenshot(vpage, "room-viewer.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1" or not DOCS_SCREENSHOT.exists():
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(host_shot, DOCS_SCREENSHOT)

    # Deleting the room closes it on every page, in words.
    page.get_by_role("button", name="Delete room").click()
    for each in (page, vpage):
        closed = each.get_by_role("alert").filter(has_text="This room was closed")
        expect(closed).to_have_text("This room was closed: the host deleted it.")
        expect(each.get_by_role("button", name="Send")).to_be_disabled()
    expect(page.get_by_role("button", name="Play", exact=True)).to_be_disabled()
    save_screenshot(vpage, "room-viewer-closed.png")
    gone = vpage.goto(f"{viewer_server.url}/rooms/{code}")
    assert gone.status == 410
    expect(vpage.get_by_role("main")).to_contain_text("This room was closed: the host deleted it.")
    missing = vpage.goto(f"{viewer_server.url}/rooms/ZZZZ2345")
    assert missing.status == 404
    expect(vpage.get_by_role("main")).to_contain_text("There is no room with this code")

    for visitor in (host, viewer, third):
        assert visitor.offsite == []
        assert visitor.dialogs == []


def test_a_viewer_without_autoplay_gets_a_start_button(fleet, redis_url, clip_url, launch, open_socket):
    from playwright.sync_api import expect

    server = fleet.start(redis_url)
    host = ApiUser(server.url).register(display_name="Hana Host")
    media = {"provider": "direct", "type": "movie", "url": clip_url}
    created = host.post("/api/rooms/", json={"title": "Autoplay", "media": media})
    code = created.json()["room"]["code"]
    host_socket = open_socket(server.url, host.token(), code)
    host_socket.emit("PLAY", {"time": 5})
    host_socket.wait_for("PLAYBACK_STATE", lambda state: state["is_playing"])

    viewer = Visitor(launch(autoplay=False))
    register_via_api(viewer, server.url, "Vic Viewer", "vic@example.com")
    viewer.page.goto(f"{server.url}/rooms/{code}")
    start = viewer.page.get_by_role("button", name="Click to start watching")
    expect(start).to_be_visible()
    save_screenshot(viewer.page, "room-viewer-autoplay-blocked.png")
    assert video_state(viewer.page)["paused"] is True
    start.click()
    expect(start).to_be_hidden()
    wait_for_video(viewer.page, lambda v: not v["paused"] and v["currentTime"] > 5, "the viewer playing")

    # The host goes away: playback freezes and the grace countdown shows (R40).
    host_socket.disconnect()
    expect(viewer.page.locator("#host-state")).to_have_text("The host is disconnected.")
    expect(viewer.page.locator("#grace-countdown")).to_have_text(
        re.compile(r"^The room closes in (10:00|9:[0-5]\d) unless the host comes back\.$")
    )
    expect(viewer.page.get_by_role("status", name="Playback")).to_contain_text("Paused at 0:")
    wait_for_video(viewer.page, lambda v: v["paused"], "the viewer paused by the grace")
    expect(viewer_names(viewer.page)).to_have_text(["Vic Viewer"])
    assert viewer.offsite == [] and viewer.dialogs == []


def test_a_viewer_whose_server_restarts_reconnects_to_a_fresh_snapshot(
    fleet, redis_url, clip_url, launch, open_socket
):
    from playwright.sync_api import expect

    host_server, viewer_server = fleet.pair(redis_url)
    host = ApiUser(host_server.url).register(display_name="Hana Host")
    media = {"provider": "direct", "type": "movie", "url": clip_url}
    code = host.post("/api/rooms/", json={"title": "Restart", "media": media}).json()["room"]["code"]
    host_socket = open_socket(host_server.url, host.token(), code)

    viewer = Visitor(launch())
    register_via_api(viewer, viewer_server.url, "Vic Viewer", "vic@example.com")
    page = viewer.page
    page.goto(f"{viewer_server.url}/rooms/{code}")
    expect(page.locator("#connection")).to_have_text("Connected.")
    expect(viewer_names(page)).to_have_text(["Hana Host (host)", "Vic Viewer"])
    host_socket.emit("PLAY", {"time": 2})
    wait_for_video(page, lambda v: not v["paused"] and v["currentTime"] > 2, "the viewer playing")

    viewer_server.kill()
    expect(page.locator("#connection")).to_have_text(re.compile("Connection lost|Cannot reach the server"))
    host_socket.emit("PAUSE", {"time": 20})
    viewer_server.start()
    expect(page.locator("#connection")).to_have_text("Connected.")
    expect(page.get_by_role("status", name="Playback")).to_have_text("Paused at 0:20")
    wait_for_video(page, lambda v: v["paused"] and abs(v["currentTime"] - 20) < 0.5, "the viewer at 20 s")
    expect(viewer_names(page)).to_have_text(["Hana Host (host)", "Vic Viewer"])
    assert viewer.offsite == [] and viewer.dialogs == []


def test_a_vidking_room_embeds_the_vidking_player_only_and_a_room_may_have_no_video(fleet, redis_url, launch):
    from playwright.sync_api import expect

    server = fleet.start(redis_url)
    visitor = Visitor(launch())
    page = visitor.page
    register(page, server.url, "Hana Host", "hana@example.com")
    page.wait_for_url(server.url + "/")
    page.get_by_label("Movie or TV show (vidking)", exact=True).check()
    page.get_by_label("Type").select_option("movie")
    page.get_by_label("TMDB id").fill("550")
    page.get_by_role("button", name="Create room").click()
    page.wait_for_url(ROOM_URL)
    player = page.locator("iframe#vidking-player")
    expect(player).to_have_attribute("src", "https://www.vidking.net/embed/movie/550")
    expect(player).to_have_attribute("allow", "autoplay; fullscreen")
    expect(page.get_by_role("status", name="Playback")).to_have_text("Paused at 0:00")
    wait_until(lambda: visitor.offsite, timeout=DEADLINE_MS / 1000, message="the iframe's request")
    assert {urlsplit(url).hostname for url in visitor.offsite} == {"www.vidking.net"}

    # A room without a video still syncs its playback state.
    page.goto(server.url + "/")
    page.get_by_label("None for now", exact=True).check()
    page.get_by_role("button", name="Create room").click()
    page.wait_for_url(ROOM_URL)
    expect(page.locator("#player")).to_have_text("No video chosen yet.")
    page.get_by_role("button", name="Play", exact=True).click()
    expect(page.get_by_role("status", name="Playback")).to_have_text("Playing from 0:00")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.get_by_role("status", name="Playback")).to_have_text(re.compile(r"^Paused at 0:0\d$"))
    assert {urlsplit(url).hostname for url in visitor.offsite} == {"www.vidking.net"}
    assert visitor.dialogs == []


def test_the_clip_server_answers_byte_ranges(clip_url):
    size = CLIP.stat().st_size
    assert size < 300_000
    response = requests.get(clip_url, headers={"Range": "bytes=100-199"}, timeout=5)
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert response.content == CLIP.read_bytes()[100:200]
