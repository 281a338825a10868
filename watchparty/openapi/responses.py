"""Response shapes of the HTTP API (SPEC section 3), for the OpenAPI document."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class Shape(BaseModel):
    """A response object: every listed field present, no others."""

    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Shape):
    code: str
    message: str
    fields: dict[str, str] | None = None


class Error(Shape):
    error: ErrorDetail


class User(Shape):
    id: int
    email: str
    display_name: str


class PublicUser(Shape):
    id: int
    display_name: str


class UserEnvelope(Shape):
    user: User


class CsrfToken(Shape):
    csrf_token: str


class SocketToken(Shape):
    access_token: str
    token_type: str
    expires_in: int


class PlaybackSummary(Shape):
    is_playing: bool
    time: float
    version: int


class Room(Shape):
    code: str
    title: str
    host: PublicUser
    is_private: bool
    is_chat_enabled: bool
    state: str
    created_at: str
    viewer_count: int
    media: dict[str, Any] | None
    embed_url: str | None
    playback: PlaybackSummary
    cohosts: list[PublicUser]
    media_version: int
    settings: dict[str, Any]
    role: str | None = None  # the caller's own role (R100a)


class RoomEnvelope(Shape):
    room: Room


class JoinResult(Shape):
    room: Room
    joined: bool


class PublicRoom(Shape):
    code: str
    title: str
    host: PublicUser
    viewer_count: int
    created_at: str


class PublicRooms(Shape):
    rooms: list[PublicRoom]


class ChatMessage(Shape):
    id: int
    user: PublicUser
    message: str
    created_at: str


class ChatMessages(Shape):
    messages: list[ChatMessage]


class Progress(Shape):
    content_id: str
    position_seconds: float
    duration_seconds: float
    progress_percent: float
    completed: bool
    updated_at: str


class ProgressEnvelope(Shape):
    progress: Progress | None


class ResumePoint(Shape):
    progress_percent: float
    last_position_seconds: float
    completed: bool


class Provider(Shape):
    name: str
    media_types: list[str]
    options: list[str]


class Providers(Shape):
    providers: list[Provider]


class EmbedUrl(Shape):
    url: str


class Loose(BaseModel):
    """A JSON object whose fields this document does not list yet (the section-6 routes)."""

    model_config = ConfigDict(extra="allow")


class Health(Shape):
    status: str
    database: bool
    realtime: bool
    realtime_backend: str
