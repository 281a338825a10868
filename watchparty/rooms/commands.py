"""What sockets may send to the /room namespace, validated; anything else is ignored (R36)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Seconds = Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False, strict=True)]


class Command(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)


Rate = Annotated[float, Field(ge=0.25, le=4.0, allow_inf_nan=False, strict=True)]
RoundTrip = Annotated[float, Field(ge=0, le=60, allow_inf_nan=False, strict=True)]
Version = Annotated[int, Field(ge=0, strict=True)]


class Play(Command):
    time: Seconds | None = None
    rate: Rate | None = None  # R123


class Pause(Command):
    time: Seconds | None = None


class Seek(Command):
    time: Seconds
    rate: Rate | None = None


class ChangeRate(Command):
    rate: Rate


class SyncCheck(Command):
    time: Seconds
    rtt: RoundTrip | None = None  # R130
    buffering: bool | None = None
    version: Version | None = None


class Ready(Command):
    ready: bool  # R110


class Resync(Command):
    user_id: Annotated[int, Field(ge=1, strict=True)]  # R132


class PlayerEvent(Command):
    event: Literal["timeupdate", "play", "pause", "seeked", "ended"]
    currentTime: Seconds
    duration: Seconds | None = None  # 0 until a player knows the length


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
