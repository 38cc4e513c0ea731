"""The keywords Twilio treats as opt-out, opt-in and help requests.

The whole message must be the keyword; case, surrounding spaces and
full-width letters do not matter. "Please stop texting me" is an ordinary
message.
"""

from __future__ import annotations

import unicodedata
from typing import Literal

Keyword = Literal["opt_out", "opt_in", "help"]

OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})


def keyword_of(body: str) -> Keyword | None:
    """Which keyword `body` is, or None for an ordinary message."""
    word = unicodedata.normalize("NFKC", body).strip().upper()
    if word in OPT_OUT:
        return "opt_out"
    if word in OPT_IN:
        return "opt_in"
    if word in HELP:
        return "help"
    return None
