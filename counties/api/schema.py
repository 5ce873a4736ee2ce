"""OpenAPI extensions for drf-spectacular (imported when the app is ready)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "counties.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`. Reading needs no token; writing needs a token that may write.",
        }


# The largest value of an integer column depends on the database (SQLite's is 2**63-1,
# PostgreSQL's smallint 32767): leave it out, so the schema is the same on every backend.
DATABASE_LIMITS = {32767, 2147483647, 9223372036854775807}


def drop_database_limits(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer" and node.get("maximum") in DATABASE_LIMITS:
                del node["maximum"]
                if node.get("format") == "int64":
                    del node["format"]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result
