"""Socket payloads: validated by a model per event; anything malformed is ignored (R36)."""

from pydantic import BaseModel, ConfigDict, ValidationError


class SocketPayload(BaseModel):
    """Base of every model of what a client sends: exact types, extra keys ignored."""

    model_config = ConfigDict(extra="ignore", strict=True)


def parse(model: type[SocketPayload], payload) -> SocketPayload | None:
    """Return the validated payload, or None for anything malformed."""
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        return None
    try:
        return model.model_validate(payload)
    except ValidationError:
        return None
