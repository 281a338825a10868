"""Request bodies of the auth endpoints (SPEC R13, R14)."""

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from watchparty.validation import Body, refuse_control_characters

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
PASSWORD_MIN_LENGTH = 8


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
Password = Annotated[str, Field(min_length=PASSWORD_MIN_LENGTH, max_length=1024)]
DisplayName = Annotated[
    str,
    Field(min_length=1, max_length=40),
    AfterValidator(refuse_control_characters),
    AfterValidator(_not_blank),
]


class RegisterBody(Body):
    email: Email
    password: Password
    display_name: DisplayName


class LoginBody(Body):
    email: Annotated[str, Field(max_length=254)]
    password: Annotated[str, Field(max_length=1024)]
