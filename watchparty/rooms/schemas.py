"""Request bodies of the room endpoints (SPEC R20, R23, R25)."""

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from watchparty.roles.settings import SettingsPatch
from watchparty.validation import Body, refuse_control_characters

Title = Annotated[str, Field(max_length=100), AfterValidator(refuse_control_characters)]


def _media_from_form(value: Any) -> Any:
    """Form bodies carry `media` as a JSON string; JSON bodies carry an object."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except (ValueError, RecursionError):  # nested too deep is a RecursionError (R176)
            raise ValueError("must be a JSON object") from None
    return value


class CreateRoomBody(Body):
    title: Title = ""
    is_private: bool = False
    is_chat_enabled: bool = True
    media: dict | None = None
    settings: SettingsPatch | None = None  # JSON bodies only: a form's string is refused (R107)

    _media = field_validator("media", mode="before")(_media_from_form)


class UpdateRoomBody(Body):
    title: Title | None = None
    is_private: bool | None = None
    is_chat_enabled: bool | None = None
    media: dict | None = None
    settings: SettingsPatch | None = None

    _media = field_validator("media", mode="before")(_media_from_form)

    def changes(self) -> dict:
        """The fields the client sent; `media: null` clears the media, other nulls are ignored."""
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        changes = {name: value for name, value in sent.items() if value is not None or name == "media"}
        if "settings" in changes:
            changes["settings"] = changes["settings"].changes()
        return changes


class PublicRoomsQuery(Body):
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class MessagesQuery(Body):
    limit: Annotated[int | None, Field(ge=1)] = None
