"""The admin API's own OpenAPI document, served at /admin/openapi.json."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}

ADMIN_OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "mcphub admin API", "version": "1"},
    "paths": {
        "/admin/apis": {
            "get": {
                "operationId": "listApis",
                "summary": "List registered APIs",
                "responses": {"200": _json({"type": "object"}, "The APIs and their current versions")},
            }
        },
        "/admin/apis/{name}": {
            "parameters": [_NAME],
            "get": {
                "operationId": "getApi",
                "summary": "Show one API",
                "responses": {
                    "200": _json({"type": "object"}, "The API"),
                    "404": _json(_ERROR, "No such API"),
                },
            },
            "put": {
                "operationId": "putApi",
                "summary": "Register an API, or replace it atomically with a new version",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiImport"}}},
                },
                "responses": {
                    "201": _json({"type": "object"}, "The new version"),
                    "400": _json(_ERROR, "Malformed request"),
                    "413": _json(_ERROR, "Request body too large"),
                    "422": _json(_ERROR, "The spec could not be imported; nothing changed"),
                },
            },
            "delete": {
                "operationId": "deleteApi",
                "summary": "Remove an API and its tools",
                "responses": {"204": {"description": "Removed"}, "404": _json(_ERROR, "No such API")},
            },
        },
        "/admin/apis/{name}/overrides": {
            "parameters": [_NAME],
            "patch": {
                "operationId": "setToolOverride",
                "summary": "Enable/disable, rename or re-describe one of the API's tools",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ToolOverride"}}
                    },
                },
                "responses": {"204": {"description": "Saved"}, "422": _json(_ERROR, "Invalid override")},
            },
        },
        "/admin/tools": {
            "get": {
                "operationId": "listTools",
                "summary": "List the tools the catalog serves",
                "parameters": [{"name": "api", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": _json({"type": "object"}, "The tools")},
            }
        },
    },
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {
                    "error": {
                        "type": "object",
                        "properties": {"type": {"type": "string"}, "message": {"type": "string"}},
                        "required": ["type", "message"],
                    }
                },
                "required": ["error"],
            },
            "ApiImport": {
                "type": "object",
                "properties": {
                    "spec_url": {"type": "string", "format": "uri"},
                    "spec": {"description": "The spec inline: a JSON object or the text of a JSON/YAML file"},
                    "base_url": {"type": "string", "format": "uri"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "api_key": {"type": "string", "writeOnly": True},
                    "bearer_token": {"type": "string", "writeOnly": True},
                    "basic": {"type": "string", "writeOnly": True, "description": "user:password"},
                    "oauth2": {
                        "type": "object",
                        "writeOnly": True,
                        "description": "client-credentials grant",
                        "properties": {
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                            "token_url": {"type": "string"},
                            "scopes": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
            },
            "ToolOverride": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "description": "The operation, e.g. 'GET /pets/{petId}'"},
                    "enabled": {"type": "boolean"},
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                },
                "required": ["key"],
            },
        }
    },
}
