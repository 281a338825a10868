"""Provider endpoints (SPEC R70, R71): public, read-only, no login."""

from collections.abc import Callable, Mapping

from flask import Blueprint, request
from pydantic import ValidationError

from watchparty.domain_errors import DomainError, Kind, invalid_input
from watchparty.providers.base import Provider
from watchparty.providers.registry import UnknownProvider, all_providers, get_provider, prefixed_fields

bp = Blueprint("providers", __name__, url_prefix="/api/providers")


@bp.get("/")
def list_providers():
    """List every provider with its media types and options."""
    return {"providers": [provider.describe() for provider in all_providers()]}


@bp.get("/<name>/embed/")
def embed(name: str):
    """Build the player URL for the media and options in the query string."""
    provider = find_provider(name)
    # An empty parameter (?color=) means "not given", as an HTML form sends it.
    args = {key: value for key, value in request.args.items() if value != ""}
    fields: dict[str, str] = {}
    media = collect(provider.validate_media, provider.media_from_query(args), fields)
    options = collect(provider.validate_options, provider.options_from_query(args), fields)
    if fields:
        raise invalid_input("The request has invalid parameters.", fields)
    return {"url": provider.embed_url(media, options)}


def find_provider(name: str) -> Provider:
    """Return the named provider or answer 404."""
    try:
        return get_provider(name)
    except UnknownProvider:
        raise DomainError(Kind.NOT_FOUND, "There is no provider with that name.") from None


def collect(validate: Callable[[Mapping], dict], raw: Mapping, fields: dict[str, str]) -> dict:
    """Return validate(raw), or {} after adding its errors to fields."""
    try:
        return validate(raw)
    except ValidationError as exc:
        fields.update(prefixed_fields(exc))
        return {}
