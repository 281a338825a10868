"""Request bodies of the queue endpoints (SPEC R152)."""

from typing import Annotated

from pydantic import AfterValidator, Field

from watchparty.validation import Body, refuse_control_characters


class AddItemBody(Body):
    media: dict
    title: Annotated[str, Field(max_length=100), AfterValidator(refuse_control_characters)] = ""


class MoveBody(Body):
    index: int
