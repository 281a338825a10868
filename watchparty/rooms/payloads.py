"""What sockets may send about a room's playback (R38, R60, R62); anything else is ignored (R36)."""

from typing import Annotated, Literal

from pydantic import Field

from watchparty.realtime.payloads import SocketPayload

Seconds = Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False, strict=True)]


class PlayPause(SocketPayload):
    time: Seconds | None = None


class Seek(SocketPayload):
    time: Seconds


class SyncCheck(SocketPayload):
    time: Seconds


class PlayerEvent(SocketPayload):
    event: Literal["timeupdate", "play", "pause", "seeked", "ended"]
    currentTime: Seconds
    duration: Seconds | None = None  # 0 until a player knows the length
    media_version: Annotated[int, Field(ge=0)] | None = None  # R150a
