"""What sockets may send to the /room namespace, validated; anything else is ignored (R36)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Seconds = Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False, strict=True)]


class Command(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


class PlayPause(Command):
    time: Seconds | None = None


class Seek(Command):
    time: Seconds


class SyncCheck(Command):
    time: Seconds


class PlayerEvent(Command):
    event: Literal["timeupdate", "play", "pause", "seeked", "ended"]
    currentTime: Seconds
    duration: Seconds | None = None  # 0 until a player knows the length
    media_version: Annotated[int, Field(ge=0)] | None = None  # R150a


class ChatMessage(Command):
    message: str


def parse(model: type[Command], payload) -> Command | None:
    """Return the validated command, or None for anything malformed."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return None
    try:
        return model.model_validate(payload)
    except ValidationError:
        return None
