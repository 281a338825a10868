"""The index page's "Create room" form, translated to the rooms API and back (SPEC R20, R74, R90)."""

from watchparty.domain_errors import DomainError
from watchparty.web.forms import CreateRoomForm

# The API names a bad media key `media.<key>`; the form shows it next to its own field.
FORM_FIELDS = {
    "media": "media_provider",
    "media.provider": "media_provider",
    "media.type": "media_type",
    "media.id": "media_id",
    "media.season": "media_season",
    "media.episode": "media_episode",
    "media.url": "media_url",
    "title": "title",
    "is_private": "is_private",
}
FIELD_MESSAGES = {
    "media_provider": "Choose one of the video options.",
    "media_type": "Choose Movie or TV show.",
    "media_id": "Enter the TMDB id: 1 to 10 digits.",
    "media_season": "Enter the season number (1 or more) for a TV show.",
    "media_episode": "Enter the episode number (1 or more) for a TV show.",
    "media_url": "Enter the link of a video file, starting with http:// or https://.",
    "title": "Use at most 100 characters.",
}


def media_from_form(form: CreateRoomForm) -> dict | None:
    """Build the API's media object (R20, R74) from the form; None when no video was chosen."""
    provider = form.media_provider.data or ""
    if provider == "":
        return None
    if provider == "direct":
        return {"provider": "direct", "type": "movie", "url": (form.media_url.data or "").strip()}
    if provider == "vidking":
        media = {
            "provider": "vidking",
            "type": form.media_type.data,
            "id": (form.media_id.data or "").strip(),
        }
        if form.media_type.data == "tv":
            media.update(season=form.media_season.data, episode=form.media_episode.data)
        return media
    # Anything else is refused by the providers package, next to the "Video" choice.
    return {"provider": provider}


def show_field_errors(form: CreateRoomForm, error: DomainError) -> str | None:
    """Put the rooms service's per-field refusals next to the form's fields; return a message for the rest."""
    shown = False
    for key in error.fields or {}:
        name = FORM_FIELDS.get(key, "media_provider" if key.startswith("media") else None)
        if name is None:
            continue
        field = form[name]
        message = FIELD_MESSAGES.get(name, "This value is not valid.")
        if message not in field.errors:
            field.errors = [*field.errors, message]
        shown = True
    return None if shown else error.message
