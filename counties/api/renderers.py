"""CSV for every list and statistic (`?format=csv`): one row per item, nested fields flattened,
written by the registry's one table writer (BOM, formula neutralising)."""

from typing import Any

from rest_framework.renderers import BaseRenderer

from counties import tables


def flatten(item: Any, prefix: str = "") -> dict[str, Any]:
    """{"province": {"code": "1"}} → {"province.code": "1"}; lists of scalars are joined with ';'."""
    if not isinstance(item, dict):
        return {prefix or "value": item}
    row: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            row.update(flatten(value, name))
        elif isinstance(value, list):
            row[name] = ";".join(str(v.get("code", v.get("key", v))) if isinstance(v, dict) else str(v) for v in value)
        else:
            row[name] = value
    return row


def rows_of(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, list):
        return [flatten(item) for item in data]
    if isinstance(data, dict) and any(isinstance(v, list) for v in data.values()):
        # A statistic made of groups (funding by year, by province, ...): one row per group item.
        return [{"group": key, **flatten(item)} for key, value in data.items() if isinstance(value, list) for item in value]
    return [flatten(data)]


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: dict | None = None) -> bytes:
        if data is None:
            return b""
        rows = rows_of(data)
        columns: list[str] = []
        for row in rows:
            columns.extend(c for c in row if c not in columns)
        return tables.csv_bytes(columns, ([row.get(c) for c in columns] for row in rows))
