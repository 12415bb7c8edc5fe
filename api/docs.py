"""The API's reference page, rendered on the server from the OpenAPI schema (works offline)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from api.endpoints import public_api
from api.schemas import EVENT_EXAMPLE, SEED_EXAMPLES, USERS_EXAMPLE


def _curl(base: str, path: str, body: dict[str, Any]) -> str:
    data = json.dumps(body, indent=2, ensure_ascii=False).replace("'", "'\\''")
    return (
        f"curl -X POST '{base}{path}' \\\n"
        "  -H 'Authorization: Basic <API key>' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{data}'"
    )


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for op_path, methods in schema["paths"].items():
        for method, operation in methods.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            operations.append(
                {
                    "method": method.upper(),
                    "path": op_path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "body_schema": ref.rsplit("/", 1)[-1] if ref else "",
                    "responses": sorted(operation.get("responses", {}).items()),
                }
            )
    return operations


@login_not_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    prefix = reverse("public_api:api-root")
    schema = public_api.get_openapi_schema(path_prefix=prefix)
    base = request.build_absolute_uri("/").rstrip("/")
    examples = [
        (title, _curl(base, f"{prefix}track/users/", body)) for title, body in SEED_EXAMPLES
    ]
    examples.append(("Record an event", _curl(base, f"{prefix}track/events/", EVENT_EXAMPLE)))
    examples.append(
        (
            "Contacts created after 8 Sep 2021, 5 pm IST",
            _curl(base, f"{prefix}apis/users/?offset=0&limit=100", USERS_EXAMPLE),
        )
    )
    components = {
        name: json.dumps(component, indent=2)
        for name, component in schema.get("components", {}).get("schemas", {}).items()
    }
    context = {
        "title": schema["info"]["title"],
        "description": schema["info"].get("description", ""),
        "operations": _operations(schema),
        "examples": examples,
        "components": components,
        "openapi_url": reverse("public_api:openapi-json"),
        "base": base + prefix,
    }
    return render(request, "api/docs.html", context)
