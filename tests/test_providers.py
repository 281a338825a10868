"""Providers: media validation, embed URLs and content ids, and the HTTP endpoints (SPEC R70-R74)."""

import itertools

import pytest
import requests
from pydantic import ValidationError

from watchparty import providers
from watchparty.domain_errors import DomainError
from watchparty.errors import status_for
from watchparty.providers import UnknownProvider, get_provider

VIDKING = "https://www.vidking.net/embed"
MOVIE = {"provider": "vidking", "type": "movie", "id": "550"}
TV = {"provider": "vidking", "type": "tv", "id": "1399", "season": 1, "episode": 2}
DIRECT = {"provider": "direct", "type": "movie", "url": "https://cdn.example.com/films/big-buck-bunny.mp4"}
ALL_OPTIONS = {
    "color": "e50914",
    "autoPlay": True,
    "nextEpisode": False,
    "episodeSelector": True,
    "progress": 90,
}
ALL_OPTIONS_QUERY = "color=e50914&autoPlay=true&nextEpisode=false&episodeSelector=true&progress=90"
HUGE = "9" * 1_000_000


def vidking_url(media, options=None):
    return get_provider("vidking").embed_url(media, options)


def media_fields(raw) -> dict:
    """Return the `fields` of the 400 that validate_media raises for raw."""
    with pytest.raises(DomainError) as caught:
        providers.validate_media(raw)
    assert (status_for(caught.value), caught.value.code) == (400, "validation_error")
    return caught.value.fields


# --- registry ---------------------------------------------------------------


def test_registry_lists_every_provider_by_name():
    assert [provider.name for provider in providers.all_providers()] == ["direct", "vidking"]
    assert get_provider("vidking").media_types == ("movie", "tv")
    assert get_provider("vidking").options == [
        "color",
        "autoPlay",
        "nextEpisode",
        "episodeSelector",
        "progress",
    ]
    assert get_provider("direct").options == []


@pytest.mark.parametrize("name", ["youtube", "", "VIDKING", None, ["vidking"]])
def test_unknown_provider_is_a_key_error(name):
    with pytest.raises(UnknownProvider):
        get_provider(name)
    assert issubclass(UnknownProvider, KeyError)


def test_registering_another_class_under_a_taken_name_is_refused():
    class Impostor(type(get_provider("direct"))):
        pass

    with pytest.raises(ValueError, match="already registered"):
        providers.register(Impostor)
    assert type(get_provider("direct")).__name__ == "Direct"


# --- vidking URLs (R72) -----------------------------------------------------


def test_exact_movie_and_tv_urls():
    assert vidking_url(MOVIE) == f"{VIDKING}/movie/550"
    assert vidking_url(TV) == f"{VIDKING}/tv/1399/1/2"
    assert vidking_url(TV, {}) == vidking_url(TV, None) == f"{VIDKING}/tv/1399/1/2"


@pytest.mark.parametrize(
    ("options", "query"),
    [
        ({"color": "e50914"}, "color=e50914"),
        ({"color": "E50914"}, "color=e50914"),
        ({"color": "ABCDEF"}, "color=abcdef"),
        ({"autoPlay": True}, "autoPlay=true"),
        ({"autoPlay": False}, "autoPlay=false"),
        ({"nextEpisode": True}, "nextEpisode=true"),
        ({"nextEpisode": False}, "nextEpisode=false"),
        ({"episodeSelector": True}, "episodeSelector=true"),
        ({"episodeSelector": False}, "episodeSelector=false"),
        ({"progress": 0}, "progress=0"),
        ({"progress": 120}, "progress=120"),
        ({"progress": "120"}, "progress=120"),
        ({"autoPlay": "true", "nextEpisode": "0"}, "autoPlay=true&nextEpisode=false"),
        ({"color": None, "progress": None}, ""),
    ],
)
def test_each_option_alone(options, query):
    expected = f"{VIDKING}/tv/1399/1/2" + (f"?{query}" if query else "")
    assert vidking_url(TV, options) == expected


@pytest.mark.parametrize("order", list(itertools.permutations(ALL_OPTIONS)))
def test_all_options_come_in_the_fixed_order_whatever_the_order_given(order):
    options = {key: ALL_OPTIONS[key] for key in order}
    assert vidking_url(MOVIE, options) == f"{VIDKING}/movie/550?{ALL_OPTIONS_QUERY}"


def test_building_a_url_is_deterministic_and_leaves_its_input_alone():
    media, options = dict(TV), dict(ALL_OPTIONS)
    urls = {vidking_url(media, options) for _ in range(50)}
    assert urls == {f"{VIDKING}/tv/1399/1/2?{ALL_OPTIONS_QUERY}"}
    assert (media, options) == (TV, ALL_OPTIONS)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("color", "#fff"),
        ("color", "#e50914"),
        ("color", "fff"),
        ("color", "e509140"),
        ("color", "gggggg"),
        ("color", "e50914\n"),
        ("color", 0xE50914),
        ("color", ["e50914"]),
        ("color", HUGE),
        ("autoPlay", "maybe"),
        ("autoPlay", "True"),
        ("autoPlay", "yes"),
        ("autoPlay", 1),
        ("autoPlay", {}),
        ("nextEpisode", "on"),
        ("episodeSelector", 0.0),
        ("progress", -1),
        ("progress", "-1"),
        ("progress", 1.5),
        ("progress", "1.5"),
        ("progress", "abc"),
        ("progress", "1e3"),
        ("progress", " 5"),
        ("progress", True),
        ("progress", float("nan")),
        ("progress", float("inf")),
        ("progress", 2**31),
        ("progress", HUGE),
        ("progress", [5]),
    ],
)
def test_each_bad_option_is_refused(name, value):
    with pytest.raises(ValidationError) as caught:
        vidking_url(MOVIE, {name: value})
    assert [error["loc"] for error in caught.value.errors()] == [(name,)]


def test_unknown_options_are_refused_by_the_python_api():
    with pytest.raises(ValidationError) as caught:
        vidking_url(MOVIE, {"colour": "e50914"})
    assert caught.value.errors()[0]["loc"] == ("colour",)


# --- vidking media (R20, R72) -----------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        (MOVIE, MOVIE),
        (TV, TV),
        ({**MOVIE, "id": "1"}, {**MOVIE, "id": "1"}),
        ({**MOVIE, "id": "9999999999"}, {**MOVIE, "id": "9999999999"}),
        ({**MOVIE, "id": 550}, MOVIE),
        ({**MOVIE, "id": "00550"}, MOVIE),
        ({**TV, "season": 99_999, "episode": 1}, {**TV, "season": 99_999, "episode": 1}),
        ({"id": "550", "type": "movie", "provider": "vidking"}, MOVIE),
    ],
)
def test_valid_vidking_media_is_normalised(raw, stored):
    result = providers.validate_media(raw)
    assert result == stored
    assert list(result) == list(stored)


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ({**MOVIE, "type": "series"}, {"media.type"}),
        ({**MOVIE, "type": "Movie"}, {"media.type"}),
        ({"provider": "vidking", "id": "550"}, {"media.type"}),
        ({"provider": "vidking", "type": "movie"}, {"media.id"}),
        ({"provider": "vidking", "type": "tv", "id": "1399"}, {"media.season", "media.episode"}),
        ({"provider": "vidking", "type": "tv", "id": "1399", "season": 1}, {"media.episode"}),
        ({**TV, "season": 0}, {"media.season"}),
        ({**TV, "episode": 0}, {"media.episode"}),
        ({**TV, "season": -1}, {"media.season"}),
        ({**TV, "season": True}, {"media.season"}),
        ({**TV, "episode": False}, {"media.episode"}),
        ({**TV, "season": "1"}, {"media.season"}),
        ({**TV, "season": 1.0}, {"media.season"}),
        ({**TV, "season": 1.5}, {"media.season"}),
        ({**TV, "season": float("nan")}, {"media.season"}),
        ({**TV, "season": None}, {"media.season"}),
        ({**TV, "season": [1]}, {"media.season"}),
        ({**TV, "season": 100_000}, {"media.season"}),
        ({**TV, "season": 10**100}, {"media.season"}),
        ({**MOVIE, "id": "abc"}, {"media.id"}),
        ({**MOVIE, "id": "12a4"}, {"media.id"}),
        ({**MOVIE, "id": ""}, {"media.id"}),
        ({**MOVIE, "id": " 550"}, {"media.id"}),
        ({**MOVIE, "id": "550\n"}, {"media.id"}),
        ({**MOVIE, "id": "-550"}, {"media.id"}),
        ({**MOVIE, "id": "\u0665\u0665\u0660"}, {"media.id"}),
        ({**MOVIE, "id": "12345678901"}, {"media.id"}),
        ({**MOVIE, "id": 12345678901}, {"media.id"}),
        ({**MOVIE, "id": -1}, {"media.id"}),
        ({**MOVIE, "id": True}, {"media.id"}),
        ({**MOVIE, "id": 550.0}, {"media.id"}),
        ({**MOVIE, "id": float("nan")}, {"media.id"}),
        ({**MOVIE, "id": None}, {"media.id"}),
        ({**MOVIE, "id": ["550"]}, {"media.id"}),
        ({**MOVIE, "id": {"id": "550"}}, {"media.id"}),
        ({**MOVIE, "id": HUGE}, {"media.id"}),
        ({**MOVIE, "season": 1}, {"media.season"}),
        ({**MOVIE, "title": "Fight Club"}, {"media.title"}),
    ],
)
def test_bad_vidking_media_is_refused_with_media_fields(raw, fields):
    assert set(media_fields(raw)) == fields


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (None, {"media"}),
        ("vidking", {"media"}),
        (["vidking"], {"media"}),
        (550, {"media"}),
        (float("nan"), {"media"}),
        ({}, {"media.provider"}),
        ({"type": "movie", "id": "550"}, {"media.provider"}),
        ({**MOVIE, "provider": "youtube"}, {"media.provider"}),
        ({**MOVIE, "provider": "Vidking"}, {"media.provider"}),
        ({**MOVIE, "provider": None}, {"media.provider"}),
        ({**MOVIE, "provider": ["vidking"]}, {"media.provider"}),
        ({**MOVIE, "provider": {"name": "vidking"}}, {"media.provider"}),
        ({**MOVIE, "provider": HUGE}, {"media.provider"}),
    ],
)
def test_media_without_a_known_provider_is_refused(raw, fields):
    assert set(media_fields(raw)) == fields


def test_provider_validate_media_reports_locations_relative_to_the_media():
    with pytest.raises(ValidationError) as caught:
        get_provider("vidking").validate_media({**TV, "season": 0, "id": "x"})
    assert {error["loc"] for error in caught.value.errors()} == {("id",), ("season",)}


# --- direct (R74) -----------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/films/big-buck-bunny.mp4",
        "http://cdn.example.com/a.webm?token=abc&x=1#t=10",
        "HTTPS://CDN.example.com/a.mp4",
        "http://127.0.0.1:8080/video.mp4",
        "http://[::1]/video.mp4",
        "https://bücher.example/vidéo.mp4",
        "https://example.com/" + "a" * (2000 - len("https://example.com/")),
    ],
)
def test_direct_accepts_http_urls_and_keeps_them_as_given(url):
    media = {"provider": "direct", "type": "movie", "url": url}
    assert providers.validate_media(media) == media
    assert providers.embed_url_for(media) == url
    assert providers.content_id_for(media) == url


def test_direct_type_defaults_to_movie():
    assert providers.validate_media({"provider": "direct", "url": DIRECT["url"]}) == DIRECT


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:video/mp4;base64,AAAA",
        "file:///etc/passwd",
        "ftp://example.com/a.mp4",
        "blob:https://example.com/uuid",
        "//example.com/a.mp4",
        "/videos/a.mp4",
        "example.com/a.mp4",
        "https://",
        "https:///a.mp4",
        "http:example.com/a.mp4",
        "https://example.com/a b.mp4",
        " https://example.com/a.mp4",
        "https://example.com/a.mp4\n",
        "java\tscript:alert(1)",
        "https://example.com/\x00.mp4",
        "https://example.com/\u202e4pm.exe",
        "https://example.com/\ud800.mp4",
        "https://example.com\\@evil.example/a.mp4",
        "https://user:secret@example.com/a.mp4",
        "https://example.com@evil.example/a.mp4",
        "http://[::1/a.mp4",
        "http://example.com:99999/a.mp4",
        "http://example.com:port/a.mp4",
        "https://example.com/" + "a" * (2001 - len("https://example.com/")),
        HUGE,
        "",
    ],
)
def test_direct_refuses_other_schemes_and_unsafe_urls(url):
    assert set(media_fields({"provider": "direct", "type": "movie", "url": url})) == {"media.url"}


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ({"provider": "direct", "type": "movie"}, {"media.url"}),
        ({**DIRECT, "type": "tv"}, {"media.type"}),
        ({**DIRECT, "url": None}, {"media.url"}),
        ({**DIRECT, "url": ["https://example.com/a.mp4"]}, {"media.url"}),
        ({**DIRECT, "url": {"href": "https://example.com/a.mp4"}}, {"media.url"}),
        ({**DIRECT, "url": float("nan")}, {"media.url"}),
        ({**DIRECT, "id": "550"}, {"media.id"}),
    ],
)
def test_direct_refuses_hostile_types(raw, fields):
    assert set(media_fields(raw)) == fields


def test_direct_understands_no_options():
    direct = get_provider("direct")
    assert direct.embed_url(DIRECT, {}) == DIRECT["url"]
    with pytest.raises(ValidationError):
        direct.embed_url(DIRECT, {"autoPlay": True})


# --- resolver used by rooms and progress (R73, R80) -------------------------


@pytest.mark.parametrize(
    ("media", "content_id"),
    [
        (MOVIE, "550"),
        ({**MOVIE, "id": "00550"}, "550"),
        (TV, "1399:s1e2"),
        ({**TV, "season": 2, "episode": 10}, "1399:s2e10"),
        (DIRECT, DIRECT["url"]),
        (None, None),
    ],
)
def test_content_id_for(media, content_id):
    assert providers.content_id_for(media) == content_id


def test_episodes_and_the_movie_of_the_same_id_have_separate_content_ids():
    ids = {
        providers.content_id_for({**TV, "id": "550", "season": 1, "episode": 1}),
        providers.content_id_for({**TV, "id": "550", "season": 1, "episode": 2}),
        providers.content_id_for({**TV, "id": "550", "season": 2, "episode": 1}),
        providers.content_id_for(MOVIE),
    }
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("media", "url"),
    [(MOVIE, f"{VIDKING}/movie/550"), (TV, f"{VIDKING}/tv/1399/1/2"), (DIRECT, DIRECT["url"]), (None, None)],
)
def test_embed_url_for(media, url):
    assert providers.embed_url_for(media) == url


def test_embed_url_for_passes_options_on():
    assert providers.embed_url_for(TV, {"progress": 42}) == f"{VIDKING}/tv/1399/1/2?progress=42"


@pytest.mark.parametrize(
    "media",
    [
        {"provider": "retired", "id": "550"},
        {"type": "movie", "id": "550"},
        {**MOVIE, "id": "../../evil"},
        {**DIRECT, "url": "javascript:alert(1)"},
    ],
)
def test_stored_media_that_no_longer_validates_resolves_to_none(media, caplog):
    assert providers.embed_url_for(media) is None
    assert providers.content_id_for(media) is None
    assert "no longer resolves" in caplog.text


# --- HTTP (R70, R71) --------------------------------------------------------


def get(live_server, path, **params) -> requests.Response:
    response = requests.get(live_server.url + path, params=params, timeout=10)
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    return response


def embed(live_server, name="vidking", **params) -> requests.Response:
    return get(live_server, f"/api/providers/{name}/embed/", **params)


def test_listing_shape(live_server):
    response = get(live_server, "/api/providers/")
    assert response.status_code == 200
    assert response.json() == {
        "providers": [
            {"name": "direct", "media_types": ["movie"], "options": []},
            {
                "name": "vidking",
                "media_types": ["movie", "tv"],
                "options": ["color", "autoPlay", "nextEpisode", "episodeSelector", "progress"],
            },
        ]
    }


@pytest.mark.parametrize(
    ("params", "url"),
    [
        ({"type": "movie", "id": "550"}, f"{VIDKING}/movie/550"),
        ({"type": "tv", "id": "1399", "season": "1", "episode": "2"}, f"{VIDKING}/tv/1399/1/2"),
        ({"type": "movie", "id": "550", "color": "E50914"}, f"{VIDKING}/movie/550?color=e50914"),
        ({"type": "movie", "id": "550", "autoPlay": "1"}, f"{VIDKING}/movie/550?autoPlay=true"),
        ({"type": "movie", "id": "550", "progress": "0"}, f"{VIDKING}/movie/550?progress=0"),
        (
            {"progress": "90", "episodeSelector": "true", "nextEpisode": "false", "autoPlay": "true",
             "color": "e50914", "episode": "2", "season": "1", "id": "1399", "type": "tv"},
            f"{VIDKING}/tv/1399/1/2?{ALL_OPTIONS_QUERY}",
        ),
        (
            {"type": "movie", "id": "550", "season": "", "episode": "", "color": "", "autoPlay": "",
             "nextEpisode": "", "episodeSelector": "", "progress": ""},
            f"{VIDKING}/movie/550",
        ),
        ({"type": "movie", "id": "550", "unrelated": "x"}, f"{VIDKING}/movie/550"),
    ],
)  # fmt: skip
def test_embed_success(live_server, params, url):
    response = embed(live_server, **params)
    assert response.status_code == 200, response.text
    assert response.json() == {"url": url}


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"type"}),
        ({"type": "series", "id": "550"}, {"type"}),
        ({"type": "movie"}, {"id"}),
        ({"type": "movie", "id": "abc"}, {"id"}),
        ({"type": "movie", "id": "12345678901"}, {"id"}),
        ({"type": "movie", "id": "-5"}, {"id"}),
        ({"type": "tv", "id": "1399"}, {"season", "episode"}),
        ({"type": "tv", "id": "1399", "season": "0", "episode": "1"}, {"season"}),
        ({"type": "tv", "id": "1399", "season": "1", "episode": "-1"}, {"episode"}),
        ({"type": "tv", "id": "1399", "season": "one", "episode": "1.5"}, {"season", "episode"}),
        ({"type": "tv", "id": "1399", "season": "true", "episode": "1"}, {"season"}),
        ({"type": "movie", "id": "550", "season": "1"}, {"season"}),
        ({"type": "movie", "id": "550", "color": "#fff"}, {"color"}),
        ({"type": "movie", "id": "550", "color": "zzzzzz"}, {"color"}),
        ({"type": "movie", "id": "550", "autoPlay": "maybe"}, {"autoPlay"}),
        ({"type": "movie", "id": "550", "nextEpisode": "TRUE"}, {"nextEpisode"}),
        ({"type": "movie", "id": "550", "episodeSelector": "yes"}, {"episodeSelector"}),
        ({"type": "movie", "id": "550", "progress": "-1"}, {"progress"}),
        ({"type": "movie", "id": "550", "progress": "1.5"}, {"progress"}),
        ({"type": "movie", "id": "550", "progress": "abc"}, {"progress"}),
        ({"type": "movie", "id": "x", "color": "#fff", "progress": "-1"}, {"id", "color", "progress"}),
        ({"type": "movie", "id": "9" * 5000}, {"id"}),
    ],
)
def test_embed_bad_input_is_400_with_fields(live_server, params, fields):
    response = embed(live_server, **params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == fields


def test_direct_embed_returns_the_url(live_server):
    response = embed(live_server, "direct", url=DIRECT["url"])
    assert response.status_code == 200
    assert response.json() == {"url": DIRECT["url"]}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"url": "javascript:alert(1)"},
        {"url": "data:text/html,<script>alert(1)</script>"},
        {"url": "file:///etc/passwd"},
        {"url": "https://example.com/" + "a" * 1990},
        {"url": "https://example.com/a.mp4", "type": "tv"},
    ],
)
def test_direct_embed_bad_input_is_400(live_server, params):
    response = embed(live_server, "direct", **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) <= {"url", "type"} and error["fields"]


@pytest.mark.parametrize("name", ["youtube", "VIDKING", "vidking%00", "a" * 300])
def test_unknown_provider_is_404_json(live_server, name):
    response = embed(live_server, name, type="movie", id="550")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_provider_endpoints_need_no_login_and_no_csrf(live_server):
    session = requests.Session()
    assert session.get(live_server.url + "/api/providers/", timeout=10).status_code == 200
    params = {"type": "movie", "id": "550"}
    response = session.get(live_server.url + "/api/providers/vidking/embed/", params=params, timeout=10)
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "type=movie&id=550&id=551",
        "type=movie&id=%FF%FE",
        "type=movie&id=%00",
        "type=tv&id=1&season=99999999999999999999999999&episode=1",
        "type=movie&id=550&progress=99999999999999999999999999",
        "type[]=movie&id[]=550",
        "type=movie&id=550&color=%F0%9F%8E%A8%F0%9F%8E%A8%F0%9F%8E%A8",
        "url=https://example.com/%00.mp4",
    ],
)
def test_odd_query_strings_never_cause_a_500(live_server, query):
    for name in ("vidking", "direct"):
        response = requests.get(f"{live_server.url}/api/providers/{name}/embed/?{query}", timeout=10)
        assert response.status_code in (200, 400), response.text
        assert response.headers["Content-Type"].startswith("application/json")
