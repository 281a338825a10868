"""Video providers: the only code that knows a provider's media and URLs (SPEC R70-R74)."""

from watchparty.providers import direct, vidking  # noqa: F401 - importing registers them
from watchparty.providers.base import Provider
from watchparty.providers.registry import (
    UnknownProvider,
    all_providers,
    content_id_for,
    embed_url_for,
    get_provider,
    register,
    validate_media,
)

__all__ = [
    "Provider",
    "UnknownProvider",
    "all_providers",
    "content_id_for",
    "embed_url_for",
    "get_provider",
    "register",
    "validate_media",
]
