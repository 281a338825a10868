"""Serve the OpenAPI document (issue 13)."""

import functools

from flask import Blueprint

from watchparty.openapi.document import build_document

bp = Blueprint("openapi", __name__, url_prefix="/api")


@functools.cache
def cached_document() -> dict:
    return build_document()


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of the HTTP API, built from its models."""
    return cached_document()
