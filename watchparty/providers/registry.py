"""The provider registry and the resolver rooms and progress call (SPEC R73)."""

import logging

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from watchparty.domain_errors import DomainError, invalid_input
from watchparty.providers.base import Provider

log = logging.getLogger(__name__)

_providers: dict[str, Provider] = {}


class UnknownProvider(KeyError):
    """No provider is registered under that name."""


class MediaHead(BaseModel):
    """The part of every media object that picks its provider."""

    model_config = ConfigDict(extra="ignore")

    provider: StrictStr


def register(cls: type[Provider]) -> type[Provider]:
    """Register a provider class under its name (class decorator)."""
    current = _providers.get(cls.name)
    if current is not None and type(current) is not cls:
        raise ValueError(f"provider {cls.name!r} is already registered")
    _providers[cls.name] = cls()
    return cls


def get_provider(name: str) -> Provider:
    """Return the provider registered under name, or raise UnknownProvider."""
    try:
        return _providers[name]
    except (KeyError, TypeError):
        raise UnknownProvider(name) from None


def all_providers() -> list[Provider]:
    """Return every provider, sorted by name."""
    return [_providers[name] for name in sorted(_providers)]


def validate_media(raw: object) -> dict:
    """Return a room's media, normalised; raise an invalid-input DomainError with `media.`-prefixed fields."""
    if not isinstance(raw, dict):
        raise media_error({"media": "must be an object"})
    try:
        name = MediaHead.model_validate(raw).provider
        return get_provider(name).validate_media(raw)
    except ValidationError as exc:
        raise media_error(prefixed_fields(exc, "media")) from None
    except UnknownProvider:
        raise media_error({"media.provider": f"must be one of: {', '.join(sorted(_providers))}"}) from None


def embed_url_for(media: dict | None, options: dict | None = None) -> str | None:
    """Return the player URL of stored media, or None without media or when it no longer validates."""
    if media is None:
        return None
    try:
        return get_provider(media.get("provider")).embed_url(media, options)
    except (UnknownProvider, ValidationError):
        log.warning("stored media no longer resolves: %r", media)
        return None


def content_id_for(media: dict | None) -> str | None:
    """Return the watch-progress id of stored media, or None without media or when it no longer validates."""
    if media is None:
        return None
    try:
        return get_provider(media.get("provider")).content_id(media)
    except (UnknownProvider, ValidationError):
        log.warning("stored media no longer resolves: %r", media)
        return None


def prefixed_fields(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Map a pydantic error to {dotted.field: message}, each name under prefix."""
    fields: dict[str, str] = {}
    for item in exc.errors(include_url=False):
        parts = [prefix] if prefix else []
        name = ".".join([*parts, *(str(part) for part in item["loc"])]) or "query"
        fields.setdefault(name, item["msg"])
    return fields


def media_error(fields: dict[str, str]) -> DomainError:
    """Return the refusal of an invalid media object."""
    return invalid_input("The media object has invalid fields.", fields)
