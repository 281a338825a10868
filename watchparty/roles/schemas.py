"""Request bodies of the role endpoints (SPEC R102, R103)."""

from typing import Annotated, Literal

from pydantic import Field

from watchparty.validation import Body


class RoleBody(Body):
    role: Literal["cohost", "viewer"]


class HandOverBody(Body):
    user_id: Annotated[int, Field(ge=1)]
