"""What sockets may send about playback and sync (R38, R60, R62, R110-R132); the rest is ignored (R36)."""

from typing import Annotated, Literal

from pydantic import Field

from watchparty.realtime.payloads import SocketPayload

Seconds = Annotated[float, Field(ge=0, le=10**9, allow_inf_nan=False, strict=True)]


Rate = Annotated[float, Field(ge=0.25, le=4.0, allow_inf_nan=False, strict=True)]
RoundTrip = Annotated[float, Field(ge=0, le=60, allow_inf_nan=False, strict=True)]
Version = Annotated[int, Field(ge=0, strict=True)]


class Play(SocketPayload):
    time: Seconds | None = None
    rate: Rate | None = None  # R123


class Pause(SocketPayload):
    time: Seconds | None = None


class Seek(SocketPayload):
    time: Seconds
    rate: Rate | None = None


class ChangeRate(SocketPayload):
    rate: Rate


class SyncCheck(SocketPayload):
    time: Seconds
    rtt: RoundTrip | None = None  # R130
    buffering: bool | None = None
    version: Version | None = None


class Ready(SocketPayload):
    ready: bool  # R110


class Resync(SocketPayload):
    user_id: Annotated[int, Field(ge=1, strict=True)]  # R132


class PlayerEvent(SocketPayload):
    event: Literal["timeupdate", "play", "pause", "seeked", "ended"]
    currentTime: Seconds
    duration: Seconds | None = None  # 0 until a player knows the length
    media_version: Annotated[int, Field(ge=0)] | None = None  # R150a
