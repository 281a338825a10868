"""Request bodies of the queue endpoints (SPEC R152)."""

from typing import Annotated

from pydantic import Field

from watchparty.validation import Body


class AddItemBody(Body):
    media: dict
    title: Annotated[str, Field(max_length=100)] = ""


class MoveBody(Body):
    index: int
