"""Direct: a video file the room page plays in its own <video> element (SPEC R74)."""

import unicodedata
from typing import Annotated, Literal
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator, Field

from watchparty.providers.base import Provider, StrictModel, fail
from watchparty.providers.registry import register

MAX_URL_LENGTH = 2000
SCHEMES = ("http", "https")


def _has_hidden_characters(value: str) -> bool:
    """Return True for white space, control, format, surrogate, private or unassigned characters."""
    return any(unicodedata.category(char)[0] in "CZ" for char in value)


def _split(value: str) -> SplitResult:
    """Split a URL, refusing one Python and browsers could read differently."""
    if _has_hidden_characters(value) or "\\" in value:
        raise fail("url_characters", "must not contain spaces, control characters or backslashes")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise fail("url_parsing", "must be a valid URL") from None
    return parts


def _video_url(value: str) -> str:
    """Accept an absolute http(s) URL with a host and no credentials, unchanged."""
    parts = _split(value)
    if parts.scheme.lower() not in SCHEMES:
        raise fail("url_scheme", "must be an http or https URL")
    if not parts.hostname:
        raise fail("url_host", "must name a host")
    if parts.username is not None or parts.password is not None:
        raise fail("url_credentials", "must not contain a user name or password")
    return value


VideoUrl = Annotated[str, Field(min_length=1, max_length=MAX_URL_LENGTH), AfterValidator(_video_url)]


class DirectMedia(StrictModel):
    provider: Literal["direct"]
    type: Literal["movie"] = "movie"
    url: VideoUrl


@register
class Direct(Provider):
    name = "direct"
    media_types = ("movie",)
    query_fields = ("type", "url")

    def validate_media(self, raw: dict) -> dict:
        return DirectMedia.model_validate(raw).model_dump()

    def embed_url(self, media: dict, options: dict | None = None) -> str:
        self.validate_options(options)
        return DirectMedia.model_validate(media).url

    def content_id(self, media: dict) -> str:
        return DirectMedia.model_validate(media).url
