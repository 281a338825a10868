"""Request bodies of the progress endpoints (SPEC R80)."""

from typing import Annotated

from pydantic import AfterValidator, Field

from watchparty.validation import Body


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Seconds = Annotated[float, Field(ge=0)]
ContentId = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(_not_blank)]


class ProgressBody(Body):
    position_seconds: Seconds
    duration_seconds: Seconds
    content_id: ContentId | None = None
