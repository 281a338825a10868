"""Build the OpenAPI 3.1 document from the table of operations and their models."""

import re
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from watchparty.auth.schemas import LoginBody, RegisterBody
from watchparty.openapi import responses as out
from watchparty.progress.schemas import ProgressBody
from watchparty.queue.schemas import AddItemBody, MoveBody
from watchparty.roles.schemas import HandOverBody, RoleBody
from watchparty.rooms.schemas import CreateRoomBody, MessagesQuery, PublicRoomsQuery, UpdateRoomBody
from watchparty.validation import Body

REF_TEMPLATE = "#/components/schemas/{model}"


class EmbedQuery(Body):
    """The embed endpoint's query: the provider's media fields and options (SPEC R71)."""

    type: str | None = None
    id: str | None = None
    season: str | None = None
    episode: str | None = None
    color: str | None = None
    autoPlay: str | None = None
    nextEpisode: str | None = None
    episodeSelector: str | None = None
    progress: str | None = None


@dataclass(frozen=True)
class Operation:
    """One route: what it takes and what it answers."""

    method: str
    path: str
    summary: str
    answers: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None


OPERATIONS = (
    Operation("get", "/api/auth/csrf/", "Get a CSRF token for this session", {200: out.CsrfToken}),
    Operation(
        "post", "/api/auth/register/", "Create an account and log in", {201: out.UserEnvelope}, RegisterBody
    ),
    Operation("post", "/api/auth/login/", "Log in", {200: out.UserEnvelope}, LoginBody),
    Operation("post", "/api/auth/logout/", "End the session", {204: None}),
    Operation("get", "/api/auth/me/", "The logged-in user", {200: out.UserEnvelope}),
    Operation("post", "/api/auth/token/", "Mint a socket token", {200: out.SocketToken}),
    Operation("get", "/api/health/", "Database and Redis health", {200: out.Health, 503: out.Health}),
    Operation("post", "/api/rooms/", "Create a room", {201: out.RoomEnvelope}, CreateRoomBody),
    Operation(
        "get", "/api/rooms/public/", "List public live rooms", {200: out.PublicRooms}, query=PublicRoomsQuery
    ),
    Operation("get", "/api/rooms/{code}/", "Read a room", {200: out.RoomEnvelope}),
    Operation("patch", "/api/rooms/{code}/", "Change a room", {200: out.RoomEnvelope}, UpdateRoomBody),
    Operation("delete", "/api/rooms/{code}/", "Delete a room", {204: None}),
    Operation("post", "/api/rooms/{code}/join/", "Join a room", {200: out.JoinResult}),
    Operation(
        "get",
        "/api/rooms/{code}/messages/",
        "Recent chat",
        {200: out.ChatMessages},
        query=MessagesQuery,
    ),
    Operation(
        "put",
        "/api/rooms/{code}/progress/",
        "Save progress",
        {200: out.ProgressEnvelope},
        ProgressBody,
    ),
    Operation("get", "/api/rooms/{code}/progress/", "Own progress", {200: out.ProgressEnvelope}),
    Operation("get", "/api/rooms/{code}/resume/", "Where to resume", {200: out.ResumePoint}),
    Operation("get", "/api/providers/", "List providers", {200: out.Providers}),
    Operation(
        "get", "/api/providers/{name}/embed/", "Build a player URL", {200: out.EmbedUrl}, query=EmbedQuery
    ),
    Operation("get", "/api/openapi.json", "This document", {200: None}),
    *(
        Operation(method, path, summary, {status: out.Loose if status != 204 else None}, body)
        for method, path, summary, status, body in (
            ("get", "/api/rooms/{code}/participants/", "List participants", 200, None),
            ("patch", "/api/rooms/{code}/participants/{user_id}/", "Set a role", 200, RoleBody),
            ("post", "/api/rooms/{code}/host/", "Hand the room over", 200, HandOverBody),
            ("post", "/api/rooms/{code}/participants/{user_id}/{action}/", "Kick or ban", 204, None),
            ("delete", "/api/rooms/{code}/participants/{user_id}/ban/", "Lift a ban", 204, None),
            ("get", "/api/rooms/{code}/bans/", "List bans", 200, None),
            ("get", "/api/rooms/{code}/queue/", "Read the queue", 200, None),
            ("post", "/api/rooms/{code}/queue/", "Add to the queue", 201, AddItemBody),
            ("delete", "/api/rooms/{code}/queue/{item_id}/", "Remove from the queue", 204, None),
            ("post", "/api/rooms/{code}/queue/{item_id}/move/", "Move in the queue", 200, MoveBody),
            ("post", "/api/rooms/{code}/queue/next/", "Play the next item", 200, None),
            ("post", "/api/rooms/{code}/queue/skip/", "Vote to skip", 200, None),
        )
    ),
)


def build_document() -> dict:
    """The whole OpenAPI 3.1 document."""
    schemas = component_schemas()
    paths: dict[str, dict] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method] = operation_object(operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "watchparty",
            "version": "1",
            "description": "The watchparty HTTP API (SPEC section 3).",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def component_schemas() -> dict:
    """JSON Schemas of every model the operations name, under components/schemas."""
    models = {out.Error}
    for operation in OPERATIONS:
        models.update(model for model in operation.answers.values() if model is not None)
        models.update(model for model in (operation.body,) if model is not None)
    _, top = models_json_schema(
        [(model, "validation" if issubclass(model, Body) else "serialization") for model in models],
        ref_template=REF_TEMPLATE,
    )
    return top.get("$defs", {})


def operation_object(operation: Operation) -> dict:
    """The OpenAPI Operation object of one route."""
    result = {"summary": operation.summary, "responses": response_objects(operation)}
    parameters = path_parameters(operation.path) + query_parameters(operation.query)
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        body_ref = {"$ref": REF_TEMPLATE.format(model=operation.body.__name__)}
        required = any(info.is_required() for info in operation.body.model_fields.values())
        result["requestBody"] = {"required": required, "content": {"application/json": {"schema": body_ref}}}
    return result


def response_objects(operation: Operation) -> dict:
    """Documented answers, plus the JSON errors any route may give (SPEC R10)."""
    error = {"description": "Error (SPEC R10)", "content": json_content(out.Error)}
    answers = {"4XX": error, "503": error}
    for status, model in operation.answers.items():
        answers[str(status)] = {"description": "Success" if status < 400 else "Error"}
        if model is not None:
            answers[str(status)]["content"] = json_content(model)
    return answers


def json_content(model: type[BaseModel]) -> dict:
    return {"application/json": {"schema": {"$ref": REF_TEMPLATE.format(model=model.__name__)}}}


def path_parameters(path: str) -> list[dict]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer" if name.endswith("_id") else "string"},
        }
        for name in re.findall(r"{(\w+)}", path)
    ]


def query_parameters(model: type[BaseModel] | None) -> list[dict]:
    """One query parameter per field of the model, with the field's own schema."""
    if model is None:
        return []
    properties = model.model_json_schema(ref_template=REF_TEMPLATE)["properties"]
    return [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in properties.items()
    ]
