"""Session pages: register, login, logout, the index and its headers (SPEC R90, R91, R93, R94).

Form pages answer with the status the API would give: a form with field errors is re-rendered
with 400, a taken email with 409, wrong credentials with 401; a form without CSRF gets a 403 page.
"""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from watchparty.web import filters, public_rooms
from watchparty.web.navigation import safe_next_path
from watchparty.web.security import CONTENT_SECURITY_POLICY

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WEB_DIR = Path(__file__).resolve().parent.parent / "watchparty" / "web"
PASSWORD = "correct horse"
UNSAFE_NEXT = ["//evil.com", "https://evil.com", "/\\evil.com", "/\t/evil.com", "javascript:alert(1)", "evil"]


def csrf_token(client, path: str = "/login") -> str:
    """Read the hidden csrf_token input of a form page."""
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf_token input on {path}"
    return match.group(1)


def register(client, email="ann@example.com", password=PASSWORD, display_name="Ann", query=""):
    """Submit the register form the way a browser does."""
    data = {"email": email, "password": password, "display_name": display_name}
    data["csrf_token"] = csrf_token(client, "/register")
    return client.post("/register" + query, data=data)


def log_in(client, email="ann@example.com", password=PASSWORD, query=""):
    """Submit the login form the way a browser does."""
    data = {"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    return client.post("/login" + query, data=data)


def logged_in_user(client) -> dict | None:
    response = client.get("/api/auth/me/")
    return response.get_json()["user"] if response.status_code == 200 else None


def html(response) -> str:
    return response.get_data(as_text=True)


def test_register_logs_in_and_redirects_home(client):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert logged_in_user(client)["display_name"] == "Ann"
    page = html(client.get("/"))
    assert '<span class="account-name">Ann</span>' in page
    assert 'href="/logout">Log out</a>' in page


def test_short_password_is_shown_next_to_the_password_field(client):
    response = register(client, password="short")
    assert response.status_code == 400
    page = html(response)
    assert 'aria-invalid="true"' in page
    assert 'aria-describedby="password-hint password-error"' in page
    assert '<p class="field-error" id="password-error">Use at least 8 characters' in page
    assert 'id="email-error"' not in page
    assert 'value="ann@example.com"' in page
    assert logged_in_user(client) is None


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"display_name": ""}, "display_name"),
        ({"display_name": "   "}, "display_name"),
        ({"display_name": "x" * 41}, "display_name"),
        ({"password": ""}, "password"),
    ],
)
def test_register_field_errors_follow_the_api_rules(client, fields, bad_field):
    response = register(client, **fields)
    assert response.status_code == 400
    page = html(response)
    assert f'id="{bad_field}-error"' in page
    assert len(re.findall(r'class="field-error"', page)) == 1
    assert logged_in_user(client) is None


def test_every_missing_field_gets_its_own_error(client):
    response = client.post("/register", data={"csrf_token": csrf_token(client, "/register")})
    assert response.status_code == 400
    for name in ("email", "password", "display_name"):
        assert f'id="{name}-error"' in html(response)


def test_duplicate_email_is_shown_next_to_email(client):
    register(client, email="bob@example.com")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    response = register(client, email="BOB@example.COM", display_name="Bob two")
    assert response.status_code == 409
    assert '<p class="field-error" id="email-error">An account with this email already exists.</p>' in html(
        response
    )
    assert logged_in_user(client) is None


def test_login_success_redirects_home(client, app):
    register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    response = log_in(client, email="ANN@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert logged_in_user(client)["email"] == "ann@example.com"


def test_wrong_password_and_unknown_email_get_one_generic_error(client, app):
    register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    wrong = log_in(client, password="wrong password")
    unknown = log_in(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    message = '<p class="form-error" role="alert">The email or password is wrong.</p>'
    assert message in html(wrong) and message in html(unknown)
    assert 'class="field-error"' not in html(wrong)
    assert logged_in_user(client) is None


def test_empty_login_form_names_the_fields(client):
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 400
    assert 'id="email-error"' in html(response) and 'id="password-error"' in html(response)


def test_next_is_honoured_for_a_local_path(client):
    response = register(client, query="?next=/some/path%3Fx%3D1")
    assert response.headers["Location"] == "/some/path?x=1"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert log_in(client, query="?next=/rooms/ABCD2345").headers["Location"] == "/rooms/ABCD2345"


@pytest.mark.parametrize("target", UNSAFE_NEXT)
def test_next_that_leaves_the_site_is_refused(client, target):
    response = register(client, query="?" + requests.compat.urlencode({"next": target}))
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    response = log_in(client, query="?" + requests.compat.urlencode({"next": target}))
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", [*UNSAFE_NEXT, "", None, "/ok\n", "/" + "a" * 2000, "/%5Cevil.com"])
def test_safe_next_path_accepts_only_local_paths(target):
    expected = "/%5Cevil.com" if target == "/%5Cevil.com" else None
    assert safe_next_path(target) == expected


def test_login_page_keeps_next_in_its_register_link(client):
    page = html(client.get("/login?next=/rooms/ABCD2345"))
    assert 'href="/register?next=/rooms/ABCD2345"' in page
    assert "evil.com" not in html(client.get("/login?next=//evil.com"))


def test_logout_get_shows_a_button_and_post_logs_out(client):
    register(client)
    page = html(client.get("/logout"))
    assert re.search(r'<form method="post" action="/logout">\s*<input id="csrf_token"', page)
    assert '<button type="submit">Log out</button>' in page
    assert logged_in_user(client) is not None
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert logged_in_user(client) is None
    assert "You are logged out." in html(client.get("/"))


@pytest.mark.parametrize("path", ["/login", "/register", "/logout"])
@pytest.mark.parametrize("token", [None, "forged"])
def test_post_without_a_valid_csrf_token_gets_a_403_page(client, path, token):
    register(client, email=f"csrf-{path[1:]}@example.com")
    data = {"email": "ann@example.com", "password": PASSWORD, "display_name": "Ann"}
    if token:
        data["csrf_token"] = token
    response = client.post(path, data=data)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "<h1>Form expired</h1>" in html(response)
    assert logged_in_user(client)["email"] == f"csrf-{path[1:]}@example.com"


def test_index_for_a_visitor_has_the_list_and_join_form_but_no_create_form(client):
    page = html(client.get("/"))
    assert '<h2 id="public-rooms-heading">Public rooms</h2>' in page
    assert '<ul id="public-rooms" class="room-list" aria-labelledby="public-rooms-heading"' in page
    assert '<label for="room-code">Room code</label>' in page
    assert '<input id="room-code" name="code"' in page
    assert '<button type="submit">Join</button>' in page
    assert "Create room" not in page
    assert 'href="/login">Log in</a>' in page


def test_index_for_a_user_has_the_create_room_form(client):
    register(client)
    page = html(client.get("/"))
    assert '<form action="/rooms/new" method="post"' in page
    assert '<button type="submit">Create room</button>' in page
    names = set(re.findall(r'<(?:input|select)[^>]* name="([a-z_]+)"', page))
    expected = {"title", "is_private", "media_provider", "media_type", "media_id", "media_season"}
    assert names >= expected | {"media_episode", "media_url", "csrf_token", "code"}
    for name in ("title", "media_id", "media_season", "media_episode", "media_url"):
        assert f'<label for="{name}">' in page


@pytest.mark.parametrize(("raw", "code"), [("abcd2345", "ABCD2345"), ("  zz99xy88 ", "ZZ99XY88")])
def test_join_goes_to_the_room_page_of_the_code(client, raw, code):
    response = client.get("/join", query_string={"code": raw})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/rooms/{code}"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "A room code is 8 letters and digits"),
        ("ABCD234O", "A room code is 8 letters and digits"),
        ("ABCD-2345", "A room code is 8 letters and digits"),
        ("", "Enter a room code."),
    ],
)
def test_a_bad_code_is_shown_on_the_index(client, raw, message):
    response = client.get("/join", query_string={"code": raw})
    assert response.status_code == 400
    page = html(response)
    assert f'<p class="field-error" id="room-code-error">{message}' in page
    assert 'aria-invalid="true" aria-describedby="room-code-error"' in page
    assert "Public rooms" in page


def test_public_rooms_are_rendered_escaped_with_host_viewers_and_age(client, monkeypatch):
    created = (datetime.now(UTC) - timedelta(minutes=5, seconds=3)).isoformat()
    rooms = [
        {"code": "ABCD2345", "title": "<script>alert(1)</script>", "host": {"id": 1, "display_name": "<b>Al"},
         "viewer_count": 3, "created_at": created},
        {"code": "ZZ99XY88", "title": "", "host": {"id": 2, "display_name": "Bo"},
         "viewer_count": 1, "created_at": created},
    ]  # fmt: skip
    monkeypatch.setattr(public_rooms, "initial_public_rooms", lambda: rooms)
    page = html(client.get("/"))
    assert '<a class="room-title" href="/rooms/ABCD2345">&lt;script&gt;alert(1)&lt;/script&gt;</a>' in page
    assert '<a class="room-title" href="/rooms/ZZ99XY88">Untitled room</a>' in page
    assert '<span class="room-host">&lt;b&gt;Al</span>' in page
    assert "3 viewers" in page and "1 viewer<" in page
    assert page.count(">5 min ago</time>") == 2
    assert 'id="public-rooms-empty" class="empty" hidden>' in page


def test_without_live_rooms_the_list_starts_empty(app, client):
    with app.test_request_context():
        assert public_rooms.initial_public_rooms() == []
    page = html(client.get("/"))
    assert '<p id="public-rooms-empty" class="empty">No public rooms right now.</p>' in page


@pytest.mark.parametrize(
    ("ago", "text"),
    [
        (timedelta(seconds=-30), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(minutes=59, seconds=59), "59 min ago"),
        (timedelta(hours=2), "2 h ago"),
        (timedelta(days=1), "1 day ago"),
        (timedelta(days=3), "3 days ago"),
    ],
)
def test_time_ago_says_how_old_a_room_is(ago, text):
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert filters.time_ago((now - ago).isoformat().replace("+00:00", "Z"), now) == text
    assert filters.time_ago(now - ago, now) == text


def test_time_ago_of_nothing_is_empty():
    assert filters.time_ago(None) == filters.time_ago("not a time") == ""


def test_the_list_script_polls_the_public_api_and_never_uses_inner_html():
    script = (WEB_DIR / "static" / "js" / "public-rooms.js").read_text()
    assert 'data-source="/api/rooms/public/"' in (WEB_DIR / "templates" / "index.html").read_text()
    assert 'getAttribute("data-source")' in script and "POLL_MS = 5000" in script
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "textContent" in script


@pytest.mark.parametrize(
    "path", ["/", "/login", "/register", "/logout", "/nowhere", "/static/web/css/site.css"]
)
def test_security_headers_on_pages(client, path):
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    response.close()


def rendered_pages(client) -> list[str]:
    """Every page this blueprint renders, as a visitor, with errors, and as a user."""
    responses = [client.get(path) for path in ("/", "/login", "/register", "/logout", "/nowhere")]
    responses += [client.get("/join?code=bad"), client.post("/login", data={})]
    responses += [register(client, password="short"), log_in(client, password="wrong")]
    register(client)
    responses += [client.get("/"), client.get("/logout"), client.get("/nowhere")]
    return [html(response) for response in responses]


def test_no_inline_script_style_or_handlers_in_any_page(client):
    for page in rendered_pages(client):
        assert "<html" in page
        for tag in re.findall(r"<script\b[^>]*>", page):
            assert re.search(r'\ssrc="/static/web/js/[a-z-]+\.js"', tag), tag
        assert len(re.findall(r"<script\b[^>]*>\s*</script>", page)) == len(re.findall(r"<script\b", page))
        assert not re.search(r"<style\b|\sstyle=", page)
        assert not re.search(r"<[^>]+\son[a-z]+=", page)
        assert "//cdn" not in page and 'src="http' not in page and 'href="http' not in page


def test_templates_never_mark_text_safe():
    for template in (WEB_DIR / "templates").glob("*.html"):
        assert "|safe" not in template.read_text().replace(" ", ""), template.name


def test_display_name_is_escaped_in_the_header(client):
    register(client, display_name="<img src=x onerror=alert(1)>")
    page = html(client.get("/"))
    assert '<span class="account-name">&lt;img src=x onerror=alert(1)&gt;</span>' in page
    assert "<img src=x" not in page


def test_error_pages_use_the_site_chrome(client):
    response = client.get("/nowhere")
    assert response.status_code == 404
    page = html(response)
    assert '<a class="site-name" href="/">Watch Party</a>' in page
    assert "<h1>Not found</h1>" in page
    assert 'href="/login?next=/nowhere">Log in</a>' in page


def test_failed_form_logins_share_the_api_rate_limit(client, app):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    register(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/logout")})
    assert log_in(client, password="wrong one").status_code == 401
    api = client.post(
        "/api/auth/login/",
        json={"email": "ann@example.com", "password": "wrong two"},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert api.status_code == 401
    limited = log_in(client)
    assert limited.status_code == 429
    assert "<h1>Too many attempts</h1>" in html(limited)
    assert client.get("/login").status_code == 200
    api = client.post(
        "/api/auth/login/",
        json={"email": "ann@example.com", "password": PASSWORD},
        headers={"X-CSRFToken": csrf_token(client)},
    )
    assert api.status_code == 429


def test_forms_work_over_real_http(live_server):
    http = requests.Session()
    base = live_server.url
    page = http.get(base + "/register?next=/rooms/ABCD2345", timeout=10)
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    data = {"email": "live-forms@example.com", "password": PASSWORD, "display_name": "Live"}
    data["csrf_token"] = CSRF_INPUT.search(page.text).group(1)
    response = http.post(
        base + "/register?next=/rooms/ABCD2345", data=data, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/rooms/ABCD2345"
    index = http.get(base + "/", timeout=10)
    assert '<span class="account-name">Live</span>' in index.text
    stylesheet = http.get(base + "/static/web/css/site.css", timeout=10)
    assert stylesheet.status_code == 200 and stylesheet.headers["Content-Type"].startswith("text/css")
    token = CSRF_INPUT.search(http.get(base + "/logout", timeout=10).text).group(1)
    assert http.post(base + "/logout", data={"csrf_token": token}, timeout=10).url == base + "/"
    assert http.get(base + "/api/auth/me/", timeout=10).status_code == 401
