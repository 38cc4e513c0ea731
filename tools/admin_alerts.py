"""The `alerts` commands of `python -m tools.admin`: silence alerts for a
while, lift silences, list them.

    python -m tools.admin alerts silence NAME (--until ISO8601 | --for 2h)
                                 [--match KEY=VALUE ...] [--comment TEXT]
    python -m tools.admin alerts unsilence SILENCE_ID
    python -m tools.admin alerts list

NAME is an alert name from the catalogue (`twilio_webhook_failure`) or `*`
for every alert; another name is refused with the list of known ones.
`--match route=/twilio/sms` narrows the silence to alerts with that label
(or correlation field, such as `business_id`; `policy=NAME` for a
Monitoring policy outside the catalogue). A silenced alert is logged
`alert_silenced` and sent nowhere; the silence lapses by itself at its end.
Silences live in the store `STORE` names, so every router instance honours
them.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from common.alerts.silences import (
    Silence,
    SilenceError,
    active_silences,
    add_silence,
    remove_silence,
)
from common.store import Store

Result = tuple[dict[str, Any], str]
AddCommand = Callable[..., argparse.ArgumentParser]

_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def add_commands(group: Any, command: AddCommand) -> None:
    """Add `silence`, `unsilence` and `list` to the `alerts` group."""
    silence = command(group, "silence", silence_alert)
    silence.add_argument("name", help="alert name, or '*' for every alert")
    until = silence.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", help="end, ISO 8601 (2026-12-04T09:00:00Z)")
    until.add_argument("--for", dest="duration", help="length, e.g. 30m, 2h, 1d")
    silence.add_argument(
        "--match",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only alerts whose label KEY is VALUE (repeatable)",
    )
    silence.add_argument("--comment", help="why, for whoever reads `list`")

    command(group, "unsilence", lift_silence).add_argument("silence_id")
    command(group, "list", list_silences)


def silence_alert(store: Store, args: argparse.Namespace) -> Result:
    silence = add_silence(
        store,
        args.name,
        until=_end(args.until, args.duration),
        matchers=_matchers(args.match),
        comment=args.comment,
    )
    return _as_json(silence), f"silenced: {_describe(silence)}"


def lift_silence(store: Store, args: argparse.Namespace) -> Result:
    silence = remove_silence(store, args.silence_id)
    return _as_json(silence), f"lifted: {_describe(silence)}"


def list_silences(store: Store, args: argparse.Namespace) -> Result:
    silences = active_silences(store)
    text = "\n".join(_describe(silence) for silence in silences)
    return (
        {"silences": [_as_json(silence) for silence in silences]},
        text or "no active silences",
    )


def parse_duration(text: str) -> float:
    """Seconds in `90s`, `30m`, `2h`, `1d`, `1w` or combinations (`1h30m`)."""
    cleaned = text.strip().lower()
    parts = _DURATION.findall(cleaned)
    if not parts or _DURATION.sub("", cleaned).strip():
        raise SilenceError(
            f"--for {text!r} is not a duration: use a number and a unit "
            "(s, m, h, d, w), e.g. 30m or 2h"
        )
    return float(sum(int(number) * _UNIT_SECONDS[unit] for number, unit in parts))


def parse_time(text: str) -> float:
    """Unix seconds of an ISO 8601 time; a time without zone is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise SilenceError(
            f"--until {text!r} is not an ISO 8601 time, e.g. 2026-12-04T09:00:00Z"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _end(until: str | None, duration: str | None) -> float:
    if until is not None:
        return parse_time(until)
    return time.time() + parse_duration(duration or "")


def _matchers(pairs: list[str]) -> dict[str, str]:
    matchers = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key.strip():
            raise SilenceError(
                f"--match {pair!r} must be KEY=VALUE, e.g. route=/v1/chat"
            )
        matchers[key.strip()] = value.strip()
    return matchers


def _describe(silence: Silence) -> str:
    matchers = " ".join(f"{key}={value}" for key, value in silence.matchers.items())
    parts = [silence.silence_id, silence.name, f"until {_iso(silence.until)}"]
    if matchers:
        parts.append(f"where {matchers}")
    if silence.comment:
        parts.append(f"({silence.comment})")
    return "  ".join(parts)


def _as_json(silence: Silence) -> dict[str, Any]:
    return {
        "silence_id": silence.silence_id,
        "name": silence.name,
        "until": _iso(silence.until),
        "matchers": silence.matchers,
        "comment": silence.comment,
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
