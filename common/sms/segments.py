"""How many SMS segments a text takes, and cutting it to a number of them.

A text made only of GSM-7 characters travels as GSM-7: 160 characters in
one segment, 153 in each when it is split, the characters of the extension
table (`[ ] { } \\ ~ ^ | €` and form feed) counting twice. One character
outside GSM-7 turns the whole text into UCS-2: 70 UTF-16 code units in one
segment, 67 in each when split, a character beyond the Basic Multilingual
Plane (most emoji) taking two. A character is never split across segments,
neither an escaped GSM-7 pair nor a surrogate pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS: dict[Encoding, tuple[int, int]] = {
    # Units in a single segment, units in each part of a split message.
    "GSM-7": (160, 153),
    "UCS-2": (70, 67),
}
_ELLIPSIS = "..."


@dataclass(frozen=True)
class SegmentCount:
    encoding: Encoding
    units: int
    segments: int


_GSM7_ALL = GSM7_BASIC | GSM7_EXTENSION


def encoding_of(text: str) -> Encoding:
    return "GSM-7" if _GSM7_ALL.issuperset(text) else "UCS-2"


def _units(text: str, encoding: Encoding) -> int:
    """The septets or UTF-16 code units of the whole text, counted in C."""
    if encoding == "GSM-7":
        return len(text) + sum(text.count(char) for char in GSM7_EXTENSION)
    return len(text.encode("utf-16-le")) // 2


def _width(char: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def _segments(widths: list[int], encoding: Encoding) -> int:
    single, part = _LIMITS[encoding]
    if sum(widths) <= single:
        return 1 if widths else 0
    segments, used = 1, 0
    for width in widths:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return segments


def count_segments(text: str) -> SegmentCount:
    """The encoding, the units and the segments `text` takes as one SMS."""
    encoding = encoding_of(text)
    units = _units(text, encoding)
    if units <= _LIMITS[encoding][0]:
        # Fits in one segment: no need to place every character.
        return SegmentCount(encoding, units, 1 if units else 0)
    widths = [_width(char, encoding) for char in text]
    return SegmentCount(encoding, units, _segments(widths, encoding))


def fit_segments(text: str, max_segments: int) -> str:
    """`text` cut so that it takes at most `max_segments` segments.

    A cut text ends with "..." after the last whole word that fits, or after
    the last whole character when one word fills everything.
    """
    if max_segments < 1:
        raise ValueError(f"max_segments={max_segments} must be at least 1")
    if count_segments(text).segments <= max_segments:
        return text

    encoding = encoding_of(text)
    widths = [_width(char, encoding) for char in text]
    ellipsis = [_width(char, encoding) for char in _ELLIPSIS]
    keep = _longest_prefix(widths, ellipsis, encoding, max_segments)

    cut = text[:keep]
    space = cut.rfind(" ")
    if space > keep // 2 and keep < len(text) and not text[keep].isspace():
        cut = cut[:space]
    return cut.rstrip() + _ELLIPSIS


def _longest_prefix(
    widths: list[int], suffix: list[int], encoding: Encoding, max_segments: int
) -> int:
    """How many leading characters fit, followed by `suffix`."""
    low, high = 0, len(widths)
    while low < high:
        middle = (low + high + 1) // 2
        if _segments(widths[:middle] + suffix, encoding) <= max_segments:
            low = middle
        else:
            high = middle - 1
    return low
