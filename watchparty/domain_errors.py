"""What a rule refuses, by kind, without HTTP: errors.py maps each kind to a status once (R10)."""


class DomainError(Exception):
    """A refusal with a snake_case code, a human message and optional per-field problems."""

    code = "error"

    def __init__(self, message: str, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.code = code or type(self).code


class InvalidInput(DomainError):
    code = "validation_error"


class Unauthenticated(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Gone(DomainError):
    code = "room_closed"


class Unavailable(DomainError):
    code = "service_unavailable"
