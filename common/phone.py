"""Phone numbers in E.164, the one form every part of the product accepts.

A number is `+`, a country code that does not start with 0, then the
subscriber number: 8 to 15 digits in all, nothing else. Shorter strings
such as `+1555` are no one's number and are refused wherever numbers come
in: settings, the admin command, business files and the chat API.
"""

from __future__ import annotations

import re

E164_FORM = "+ then the country code and number, 8 to 15 digits, e.g. +15551234567"

_E164 = re.compile(r"\+[1-9]\d{7,14}")


def is_e164(number: object) -> bool:
    return isinstance(number, str) and _E164.fullmatch(number) is not None
