"""Request bodies: JSON or HTML form, validated by pydantic models."""

import unicodedata
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict

from watchparty.domain_errors import invalid_input

ModelT = TypeVar("ModelT", bound=BaseModel)


class Body(BaseModel):
    """Base of every request body: unknown fields are ignored, NaN and infinities refused."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, str_strip_whitespace=False)


# Joiners shape emoji and some scripts; every other control or format character can
# hide or reorder text ("Bob\u202e..." impersonation), so names and titles refuse them (R176).
ALLOWED_FORMAT_CHARACTERS = frozenset("\u200c\u200d")
REFUSED_CATEGORIES = ("Cc", "Cf")


def refuse_control_characters(value: str) -> str:
    """A pydantic validator: refuse Cc and Cf characters except the two joiners."""
    for character in value:
        if (
            unicodedata.category(character) in REFUSED_CATEGORIES
            and character not in ALLOWED_FORMAT_CHARACTERS
        ):
            raise ValueError("must not contain control or format characters")
    return value


def request_data() -> dict:
    """Return the request body as a dict, from JSON or from a form."""
    if request.is_json:
        try:
            data = request.get_json(silent=True)
        except RecursionError:  # deeply nested arrays: not a ValueError, so not silenced
            data = None
        if data is None and request.get_data():
            raise invalid_input("The request body is not valid JSON.", code="invalid_json")
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise invalid_input("The body must be a JSON object.", {"body": "must be an object"})
        return data
    form = request.form.to_dict()
    form.pop("csrf_token", None)
    return form


def parse_body(model: type[ModelT]) -> ModelT:
    """Validate the body against a model; JSON is typed strictly, forms are strings."""
    data = request_data()
    return model.model_validate(data, strict=request.is_json)


def parse_query(model: type[ModelT]) -> ModelT:
    """Validate the query string against a model."""
    return model.model_validate(request.args.to_dict())
