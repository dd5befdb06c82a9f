"""The OpenAPI 3.1 document of ``/api/v1``, made from the route table and the shapes.

The paths are ``hub.api.operations.OPERATIONS`` (the routes the API's application
registers) plus the document itself; the schemas are the pydantic models of
``hub.api.shapes``. Built afresh on each call, so no caller can change another's.
``tests/test_api.py`` checks every answer of the suite against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from hub.announcements.topics import all_topics
from hub.api import shapes
from hub.api.deps import API
from hub.api.operations import OPENAPI_PATH, OPERATIONS, Operation, Parameter
from hub.api.scopes import DESCRIPTIONS, LEGACY_SCOPES, Scope
from hub.catalogue import Catalogue
from hub.config import AnnouncementsConfig

JSON = "application/json"
_SCHEMAS = "#/components/schemas/"
_ERRORS: tuple[type[BaseModel], ...] = (shapes.Error, shapes.ScopeError, shapes.TransitionError)


class _Schemas(GenerateJsonSchema):
    """Pydantic's schemas without a title on every field (the names say it)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def _one_line(schema: Any) -> Any:
    """Descriptions without the line breaks of the docstrings they come from."""
    if isinstance(schema, dict):
        return {
            key: " ".join(value.split())
            if key == "description" and isinstance(value, str)
            else _one_line(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_one_line(item) for item in schema]
    return schema


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": _SCHEMAS + model.__name__}


def _response_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _refs(schema: Any) -> Iterator[str]:
    """The names of the component schemas ``schema`` refers to, at any depth."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(_SCHEMAS):
                yield value.removeprefix(_SCHEMAS)
            else:
                yield from _refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _refs(item)


def _follow_catalogue(
    schemas: dict[str, Any], catalogue: Catalogue, topics: Sequence[str]
) -> dict[str, Any]:
    """A draft's topic, service and agency ids as enums: the server answers 400 to any
    other, so the document lists the ones in use (and follows a catalogue reload)."""
    draft = schemas["AnnouncementDraft"]["properties"]
    draft["topics"]["items"] = {"type": "string", "enum": list(topics)}
    audience = schemas["DraftAudience"]["properties"]
    audience["service"]["enum"] = list(catalogue.services)
    audience["agency"]["enum"] = list(catalogue.agencies)
    return schemas


def _schemas() -> dict[str, Any]:
    """Every body of the route table and every error body, and what they refer to only.

    A request field that validates with an enum but shows its values inline leaves
    pydantic's unused enum schema behind; it is not part of the API.
    """
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(m, "serialization") for m in _ERRORS]
    for operation in OPERATIONS:
        models.append((operation.answer, "serialization"))
        if operation.body is not None:
            models.append((operation.body, "validation"))
    _roots, found = models_json_schema(
        models, ref_template=_SCHEMAS + "{model}", schema_generator=_Schemas
    )
    defined: dict[str, Any] = found.get("$defs", {})
    kept: dict[str, Any] = {}
    todo = [model.__name__ for model, _mode in models]
    while todo:
        name = todo.pop()
        if name not in kept:
            kept[name] = defined[name]
            todo.extend(_refs(defined[name]))
    return {name: _one_line(kept[name]) for name in sorted(kept)}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": _ref(shapes.Error)}}}


def _responses() -> dict[str, Any]:
    """The error answers; ``hub.api.operations.Failure`` names them for an operation."""
    return {
        "BadRequest": _error(
            "A query parameter or the request body is missing or wrong (date, unknown "
            "service, unknown ticket status, a rejection without a note; an announcement "
            "without text, with both or neither of topics and audience, an unknown topic, "
            "service or agency, a send_at without its offset)."
        ),
        "Unauthorized": {
            **_error("No token, or an unknown or revoked one."),
            "headers": {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            },
        },
        "NotFound": _error("No such service, booking, ticket or announcement."),
        "Conflict": _error(
            "The booking's state forbids it: not booked any more (cancelled, checked in, "
            "served, no-show), check-in not on the booked day, or a day that has passed."
        ),
        "InternalError": _error("The hub failed; nothing about why is sent."),
        "InsufficientScope": {
            "description": "The token lacks the scope this operation needs (its security "
            "requirement); the body names it. Make a token with that --scope.",
            "content": {JSON: {"schema": _ref(shapes.ScopeError)}},
            "headers": {
                "WWW-Authenticate": {
                    "schema": {"type": "string"},
                    "description": 'Bearer error="insufficient_scope", scope="..."',
                }
            },
        },
        "Forbidden": {
            "description": "The token lacks the scope this operation needs "
            "(insufficient_scope), or the CARE rules do not let this caller make the move "
            "(forbidden; API callers act as the system, which may make every move the "
            "procedure allows).",
            "content": {JSON: {"schema": {"oneOf": [_ref(shapes.ScopeError), _ref(shapes.Error)]}}},
        },
        "TicketConflict": {
            "description": "The CARE procedure does not allow this move from the ticket's "
            "current status (or another change came first); the body says the status now "
            "and the moves allowed from it.",
            "content": {JSON: {"schema": _ref(shapes.TransitionError)}},
        },
        "CareUnavailable": _error("This hub process runs without CARE tickets."),
        "AnnouncementConflict": _error(
            "Only a draft can be approved: this one is scheduled, sending, paused, sent or "
            "cancelled already (or another approval came first); code status_conflict."
        ),
        "AnnouncementsUnavailable": _error("This hub process runs without announcements."),
    }


def _parameter(parameter: Parameter, catalogue: Catalogue) -> dict[str, Any]:
    schema = parameter.schema(catalogue) if callable(parameter.schema) else parameter.schema
    described: dict[str, Any] = {
        "name": parameter.name,
        "in": parameter.where,
        "required": parameter.required or parameter.where == "path",
        "description": parameter.description,
        "schema": dict(schema),
    }
    if parameter.repeated:
        described |= {"style": "form", "explode": True}
    return described


def _operation(operation: Operation, catalogue: Catalogue) -> dict[str, Any]:
    """An operation with the scope it needs; each may answer 401, 403 (scope) and 500."""
    scope = operation.scope
    responses: dict[str, Any] = {
        str(operation.status): {
            "description": operation.answer_description,
            "content": {JSON: {"schema": _ref(operation.answer)}},
        },
        "401": _response_ref("Unauthorized"),
        "403": _response_ref("InsufficientScope"),
        "500": _response_ref("InternalError"),
    }
    for failure in operation.failures:
        responses[str(failure.status)] = _response_ref(failure.response)
    needs = f"Needs the scope `{scope.value}`: {DESCRIPTIONS[scope]}."
    for other in operation.also:
        needs += f" Or instead the scope `{other.value}`: {DESCRIPTIONS[other]}."
    described: dict[str, Any] = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "description": needs,
        "security": [{"bearerAuth": [s.value]} for s in operation.scopes],
        "x-scope": scope.value,
        "responses": dict(sorted(responses.items())),
    }
    if operation.parameters:
        described["parameters"] = [_parameter(p, catalogue) for p in operation.parameters]
    if operation.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {JSON: {"schema": _ref(operation.body)}},
        }
    return described


def _paths(catalogue: Catalogue) -> dict[str, Any]:
    paths: dict[str, Any] = {
        OPENAPI_PATH: {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document (no token needed).",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }
    for operation in OPERATIONS:
        item = paths.setdefault(operation.path, {})
        item[operation.method.lower()] = _operation(operation, catalogue)
    return paths


def _scopes_text() -> str:
    """The bearer scheme's description: the scopes, and the default of older tokens."""
    rows = "\n".join(f"| `{s.value}` | {DESCRIPTIONS[s]} |" for s in Scope)
    legacy = ", ".join(f"`{s.value}`" for s in Scope if s in LEGACY_SCOPES)
    return (
        "A token from `omnihub token create NAME --scope SCOPE [--scope SCOPE ...]`. "
        "Each operation names the scope it needs (its security requirement; reading "
        "announcements accepts either of two).\n\n"
        "| scope | allows |\n| --- | --- |\n"
        f"{rows}\n\n"
        f"A token made before scopes existed has {legacy}: everything but "
        "`tickets:read-confidential`."
    )


def document(catalogue: Catalogue, topics: Sequence[str] | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, as served at ``GET /api/v1/openapi.json``.

    The ``service`` query parameter and a draft's service, agency and topic lists the
    catalogue's ids and the topics in use, because the server answers 400 to any
    other; so the document follows a catalogue reload. ``topics`` default to those of
    the default configuration.
    """
    if topics is None:
        topics = [t.id for t in all_topics(AnnouncementsConfig(), catalogue)]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "omnihub REST API",
            "version": "1.2.0",
            "description": (
                "For the MPP Badung's own systems (queue display, kiosk, other apps): the "
                "service catalogue, sessions with free places, and the day's bookings. "
                "Every route but this document needs `Authorization: Bearer <token>`, a "
                "token made with `omnihub token create NAME --scope SCOPE`, and the token "
                "needs the scope the operation names (else 403 `insufficient_scope`). "
                "Dates are WITA days. Also the CARE tickets (complaints and appreciations): "
                "list, read, move through the procedure. Tickets never carry a phone "
                "number, name or address; a confidential ticket's text and reporter only "
                "reach a token with `tickets:read-confidential` (else `redacted`). And the "
                "mall's announcements: drafted with `announcements:write`, sent once "
                "approved with `announcements:approve`, read with either, with their "
                "delivery counts (never who receives them)."
            ),
        },
        "security": [{"bearerAuth": []}],
        "paths": _paths(catalogue),
        "components": {
            "schemas": _follow_catalogue(_schemas(), catalogue, topics),
            "responses": _responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": _scopes_text(),
                    "x-scopes": {s.value: DESCRIPTIONS[s] for s in Scope},
                }
            },
        },
    }


async def openapi_json(request: web.Request) -> web.Response:
    """The document for the catalogue and topics in use now; public (``hub.api.bearer``)."""
    context = request.app[API]
    topics = None
    if context.announcements is not None:
        topics = [t.id for t in context.announcements.subscriptions.topics()]
    return web.json_response(document(context.bookings.catalogue, topics))
