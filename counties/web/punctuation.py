"""How a page's language punctuates what the code puts around translated words: a note in
brackets after a word, and a label before its value. Chinese writes full-width brackets and colon
with no space (金额（万元）, 示范县：89); English a space and ASCII ones (Amount (10k yuan), …: 89).
The words themselves come from the catalogues; only the marks around them are chosen here."""

from __future__ import annotations

from django.utils.translation import get_language


def chinese() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def bracketed(note: object) -> str:
    """A note in brackets, as it follows a word: "（万元）" in Chinese, " (10k yuan)" in English."""
    return f"（{note}）" if chinese() else f" ({note})"


def labelled(label: object, value: object) -> str:
    """A label and its value: "示范县：89" in Chinese, "Demonstration counties: 89" in English."""
    return f"{label}：{value}" if chinese() else f"{label}: {value}"
