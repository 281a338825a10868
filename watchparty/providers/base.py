"""The provider interface: validate a media reference, build its embed URL, name its content."""

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel, ConfigDict
from pydantic_core import PydanticCustomError


class StrictModel(BaseModel):
    """A media or options model: exact types, no unknown keys, no NaN."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class NoOptions(StrictModel):
    """The options of a provider that understands none."""


def fail(kind: str, message: str) -> PydanticCustomError:
    """Return a validation error whose message is shown to the client as is."""
    return PydanticCustomError(kind, message)


def query_int(value: str) -> int | str:
    """Turn a query string's integer into an int; leave anything else for the model to refuse."""
    return int(value) if re.fullmatch(r"-?[0-9]{1,10}", value) else value


class Provider(ABC):
    """A video source that rooms can point at (SPEC R70-R74)."""

    name: ClassVar[str]
    media_types: ClassVar[tuple[str, ...]]
    options_model: ClassVar[type[StrictModel]] = NoOptions
    options: ClassVar[list[str]] = []
    # Media keys the embed endpoint reads from its query string (SPEC R71).
    query_fields: ClassVar[tuple[str, ...]] = ("type",)

    @abstractmethod
    def validate_media(self, raw: dict) -> dict:
        """Return the normalised media to store; raise pydantic.ValidationError."""

    @abstractmethod
    def embed_url(self, media: dict, options: dict | None = None) -> str:
        """Return the player URL for media (validated again) with the given options."""

    @abstractmethod
    def content_id(self, media: dict) -> str:
        """Return the id that watch progress is keyed by."""

    def validate_options(self, raw: Mapping | None) -> dict:
        """Return the given options, typed and in the provider's fixed order; None values are absent."""
        return self.options_model.model_validate(raw or {}).model_dump(exclude_none=True)

    def media_from_query(self, args: Mapping[str, str]) -> dict:
        """Build a raw media object from an embed request's query parameters."""
        return {"provider": self.name, **{key: args[key] for key in self.query_fields if key in args}}

    def options_from_query(self, args: Mapping[str, str]) -> dict:
        """Pick this provider's options from an embed request's query parameters."""
        return {key: args[key] for key in self.options if key in args}

    def describe(self) -> dict:
        """Return the public description listed by GET /api/providers/ (SPEC R70)."""
        return {"name": self.name, "media_types": list(self.media_types), "options": list(self.options)}
