"""Vidking: embeds of TMDB movies and TV episodes (SPEC R72)."""

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Literal
from urllib.parse import urlencode

from pydantic import ConfigDict, Field, PlainValidator

from watchparty.providers.base import Provider, StrictModel, fail, query_int
from watchparty.providers.registry import register

BASE_URL = "https://www.vidking.net/embed"
MAX_TMDB_ID = 9_999_999_999
MAX_EPISODE_NUMBER = 99_999
MAX_PROGRESS_SECONDS = 2_147_483_647
FLAGS = {"true": True, "false": False, "1": True, "0": False}


def _tmdb_id(value: object) -> str:
    """Accept 1-10 digits (or a non-negative int) as the canonical digit string, without leading zeros."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TMDB_ID:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
        return str(int(value))
    raise fail("tmdb_id", "must be a TMDB id: 1 to 10 digits")


def _hex_color(value: object) -> str:
    """Accept exactly 6 hex digits, returned in lower case."""
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{6}", value):
        return value.lower()
    raise fail("hex_color", "must be 6 hex digits, without '#'")


def _flag(value: object) -> bool:
    """Accept a bool, or the query strings true, false, 1 and 0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in FLAGS:
        return FLAGS[value]
    raise fail("flag", "must be true or false")


def _whole_seconds(value: object) -> int:
    """Accept a whole number of seconds (an int or a string of digits) from 0 up."""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,10}", value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_PROGRESS_SECONDS:
        return value
    raise fail("whole_seconds", f"must be whole seconds from 0 to {MAX_PROGRESS_SECONDS}")


def optional(check: Callable[[object], object]) -> PlainValidator:
    """Validate with check, letting None through as 'not given'."""
    return PlainValidator(lambda value: None if value is None else check(value))


TmdbId = Annotated[str, PlainValidator(_tmdb_id)]
EpisodeNumber = Annotated[int, Field(ge=1, le=MAX_EPISODE_NUMBER)]
Color = Annotated[str | None, optional(_hex_color)]
Flag = Annotated[bool | None, optional(_flag)]
Seconds = Annotated[int | None, optional(_whole_seconds)]


class VidkingKind(StrictModel):
    """The keys that choose which vidking media model applies."""

    model_config = ConfigDict(extra="ignore")

    provider: Literal["vidking"]
    type: Literal["movie", "tv"]


class VidkingMovie(StrictModel):
    provider: Literal["vidking"]
    type: Literal["movie"]
    id: TmdbId

    def path(self) -> str:
        return f"movie/{self.id}"

    def content_id(self) -> str:
        return self.id


class VidkingTv(StrictModel):
    provider: Literal["vidking"]
    type: Literal["tv"]
    id: TmdbId
    season: EpisodeNumber
    episode: EpisodeNumber

    def path(self) -> str:
        return f"tv/{self.id}/{self.season}/{self.episode}"

    def content_id(self) -> str:
        # Each episode keeps its own watch progress.
        return f"{self.id}:s{self.season}e{self.episode}"


class VidkingOptions(StrictModel):
    """Player options; the field order is the fixed query parameter order of SPEC R72."""

    color: Color = None
    autoPlay: Flag = None
    nextEpisode: Flag = None
    episodeSelector: Flag = None
    progress: Seconds = None


MEDIA_MODELS: dict[str, type[VidkingMovie | VidkingTv]] = {"movie": VidkingMovie, "tv": VidkingTv}


def query_value(value: bool | int | str) -> str:
    """Render an option value as the player expects it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@register
class Vidking(Provider):
    name = "vidking"
    media_types = ("movie", "tv")
    options_model = VidkingOptions
    options = list(VidkingOptions.model_fields)
    query_fields = ("type", "id", "season", "episode")

    def parse(self, raw: dict) -> VidkingMovie | VidkingTv:
        """Validate raw media against the model of its type."""
        kind = VidkingKind.model_validate(raw).type
        return MEDIA_MODELS[kind].model_validate(raw)

    def validate_media(self, raw: dict) -> dict:
        return self.parse(raw).model_dump()

    def embed_url(self, media: dict, options: dict | None = None) -> str:
        url = f"{BASE_URL}/{self.parse(media).path()}"
        query = urlencode(
            [(key, query_value(value)) for key, value in self.validate_options(options).items()]
        )
        return f"{url}?{query}" if query else url

    def content_id(self, media: dict) -> str:
        return self.parse(media).content_id()

    def media_from_query(self, args: Mapping[str, str]) -> dict:
        raw = super().media_from_query(args)
        return {
            key: query_int(value) if key in ("season", "episode") else value for key, value in raw.items()
        }
