"""Known XSS payloads through every text a user controls, rendered in Chromium (SPEC R74, R92).

Chat messages, room titles, display names, queue titles and a direct media URL carry each payload;
the room page and the public-rooms index must show them as text: a `window.__xss` trap (installed
before any page script) never fires, no dialog opens, no element or handler attribute is injected.
One browser, one room holding every payload, two page loads of the room page and one of the index.
"""

import pytest

from tests.support import ApiUser, connected, wait_until
from tests.test_browser import (  # noqa: F401 - fixtures
    DEADLINE_MS,
    Visitor,
    clip_url,
    launch,
    playwright_driver,
    register_via_api,
    save_screenshot,
)

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>window.__xss(1)</script>",
    "<img src=x onerror=window.__xss(2)>",
    "<svg onload=window.__xss(3)>",
    "<svg><script>window.__xss(4)</script></svg>",
    '<a href="javascript:window.__xss(5)">x</a>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss(6)>",
    '<noscript><p title="</noscript><img src=x onerror=window.__xss(7)>">',
    '"><img src=x onerror=window.__xss(8)>',
    "'><svg/onload=window.__xss(9)>",
    '<iframe srcdoc="<script>parent.__xss(10)</script>">',
    "<details open ontoggle=window.__xss(11)>",
    "javascript:window.__xss(12)",
    "<img src=x onerror=alert(13)>",
    "<body onload=window.__xss(14)>",
    "<input autofocus onfocus=window.__xss(15)>",
    "<form><button formaction=javascript:window.__xss(16)>x",
    "{{7*7}}",
    "${7*7}",
    "{{constructor.constructor('window.__xss(17)')()}}",
    "<%= 7*7 %>",
]
NAMES = [payload for payload in PAYLOADS if len(payload) <= 40]  # display names hold 40 characters
MEDIA_URL = 'http://127.0.0.1/"><svg/onload=window.__xss(18)>'
TRAP = "window.__xssFired = []; window.__xss = (n) => window.__xssFired.push(n);"
# Anything a payload could inject; the pages' own markup has none of these.
INJECTED = (
    "[onerror], [onload], [ontoggle], [onfocus], [srcdoc], [formaction], mglyph, math, iframe, details,"
    ' a[href^="javascript:" i], script:not([src]), img[src="x"], svg'
)


def add_people(server, open_socket, code: str) -> list:
    """One user per display-name payload, each with a socket in the room."""
    people = []
    for name in NAMES:
        user = ApiUser(server.url).register(display_name=name)
        assert user.post(f"/api/rooms/{code}/join/").status_code == 200
        people.append((user, connected(open_socket, server.url, user, code)))
    return people


def open_public_room(server, open_socket, host: ApiUser, title: str) -> None:
    """A room is listed once it is live: its host's socket is in it."""
    response = host.post("/api/rooms/", json={"title": title})
    assert response.status_code == 201, response.text
    connected(open_socket, server.url, host, response.json()["room"]["code"])


def fill_queue(host: ApiUser, code: str, clip_url: str) -> None:  # noqa: F811
    for title in PAYLOADS:
        media = {"provider": "direct", "type": "movie", "url": clip_url}
        response = host.post(f"/api/rooms/{code}/queue/", json={"media": media, "title": title})
        assert response.status_code == 201, response.text


def chat_all(sockets: list, payloads: list) -> None:
    for index, payload in enumerate(payloads):
        sockets[index % len(sockets)].emit("CHAT", {"message": payload})


def texts(page, selector: str) -> str:
    return "\n".join(page.locator(selector).all_text_contents())


def assert_shown_as_text(page, selector: str, payloads: list, what: str) -> None:
    """Poll until every payload is in selector's text: shown literally, never parsed."""
    wait_until(
        lambda: all(payload in texts(page, selector) for payload in payloads),
        timeout=DEADLINE_MS / 1000,
        message=f"every payload shown as text in {what}",
    )


def assert_nothing_ran(visitor: Visitor) -> None:
    page = visitor.page
    assert page.evaluate("typeof window.__xss") == "function"  # the trap is armed
    assert page.evaluate("window.__xssFired") == []
    assert visitor.dialogs == []
    assert page.evaluate(f"document.querySelectorAll({INJECTED!r}).length") == 0


def test_xss_payloads_render_as_text_on_the_room_page_and_the_index(
    fleet,
    redis_url,
    clip_url,  # noqa: F811
    launch,  # noqa: F811
    open_socket,
):
    server = fleet.start(redis_url, CHAT_RATE_LIMIT_COUNT=10_000)
    host = ApiUser(server.url).register(display_name=NAMES[0])
    media = {"provider": "direct", "type": "movie", "url": MEDIA_URL}
    created = host.post("/api/rooms/", json={"title": PAYLOADS[0], "media": media})
    assert created.status_code == 201, created.text
    code = created.json()["room"]["code"]
    people = add_people(server, open_socket, code)
    chat_all([sock for _, sock in people], PAYLOADS)  # before the page loads: CHAT_HISTORY
    for index, title in enumerate(PAYLOADS[1:]):  # every title on the index, hosted by every name
        open_public_room(server, open_socket, people[index % len(people)][0], title)

    visitor = Visitor(launch())
    visitor.context.add_init_script(TRAP)
    register_via_api(visitor, server.url, "Vic Viewer", "vic@example.com")
    page = visitor.page
    page.goto(f"{server.url}/rooms/{code}")
    assert_shown_as_text(page, "#chat-log", PAYLOADS, "the chat history")
    assert_shown_as_text(page, "#viewers", NAMES, "the viewers")
    fill_queue(host, code, clip_url)  # live: QUEUE_UPDATED
    chat_all([sock for _, sock in people], PAYLOADS)  # live: CHAT
    assert_shown_as_text(page, "#queue", PAYLOADS, "the queue")
    live = lambda: texts(page, "#chat-log").count(PAYLOADS[-1]) == 2  # noqa: E731
    wait_until(live, timeout=DEADLINE_MS / 1000, message="the live chat")
    assert page.locator("#room-title").text_content() == PAYLOADS[0]
    save_screenshot(page, "xss-room.png")
    assert_nothing_ran(visitor)

    page.goto(server.url + "/")
    assert_shown_as_text(page, "#public-rooms", PAYLOADS + NAMES, "the public rooms")
    save_screenshot(page, "xss-index.png")
    assert_nothing_ran(visitor)
    assert visitor.offsite == []
