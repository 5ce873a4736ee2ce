"""PROVISIONAL stand-in until the feed's module is merged."""

from __future__ import annotations


def current_cursor() -> str | None:
    return None
