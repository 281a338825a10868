"""Room settings (SPEC R107): defaults, and the strict shape a host may send."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_SETTINGS = {
    "viewer_pause_limit": 0,
    "queue_mode": "host",
    "auto_advance": True,
    "skip_vote_ratio": 0.5,
    "start_when_ready": False,
    "pause_on_buffering": False,
}


class SettingsPatch(BaseModel):
    """A partial `settings` object: unknown keys refused, integers not strings or booleans.

    Fields default to None without allowing it, so an explicit null is a field
    error; only `skip_vote_ratio` may be null (vote-skip off).
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    viewer_pause_limit: Annotated[int, Field(ge=0, le=100)] = None
    queue_mode: Literal["host", "open"] = None
    auto_advance: bool = None
    skip_vote_ratio: Annotated[float, Field(gt=0, le=1)] | None = None
    start_when_ready: bool = None
    pause_on_buffering: bool = None

    def changes(self) -> dict:
        """The keys the client sent."""
        return {name: getattr(self, name) for name in self.model_fields_set}


def effective_settings(stored: dict | None) -> dict:
    """The room's settings: what its host changed over the defaults."""
    return {**DEFAULT_SETTINGS, **(stored or {})}
