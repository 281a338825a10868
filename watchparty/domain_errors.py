"""What a rule refuses, by kind, without HTTP: errors.py maps each kind to a status once (R10)."""

from enum import Enum


class Kind(Enum):
    """What sort of refusal; the value is its default snake_case code."""

    INVALID_INPUT = "validation_error"
    UNAUTHENTICATED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    GONE = "room_closed"
    UNAVAILABLE = "service_unavailable"


class DomainError(Exception):
    """A refusal of some kind, with a code, a human message and optional per-field problems."""

    def __init__(self, kind: Kind, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.fields = fields
        self.code = code or kind.value


def invalid_input(message: str, fields: dict | None = None, code: str | None = None) -> DomainError:
    """A value breaks a rule: a field out of range, a malformed body."""
    return DomainError(Kind.INVALID_INPUT, message, fields, code)
