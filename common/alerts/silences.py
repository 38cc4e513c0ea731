"""Silences: an operator mutes one alert name, optionally only where some
labels match, until a given time. Kept in the store so every router
instance honours them; each silence expires on its own.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from common.alerts.catalogue import catalogue
from common.alerts.model import Alert
from common.alerts.routing import alert_field
from common.store import Store

COLLECTION = "alert_silences"


class SilenceError(ValueError):
    """The silence asked for cannot be made or found; the text says why."""


@dataclass(frozen=True)
class Silence:
    silence_id: str
    # An alert name from the catalogue; "*" silences every alert matching
    # `matchers`.
    name: str
    until: float
    created_at: float
    # Label (or correlation field) to the value it must have.
    matchers: dict[str, str] = field(default_factory=dict)
    comment: str | None = None

    def covers(self, alert: Alert, now: float) -> bool:
        if now >= self.until:
            return False
        if self.name not in ("*", alert.name):
            return False
        return all(
            alert_field(alert, key) == value for key, value in self.matchers.items()
        )

    @classmethod
    def from_document(cls, data: Mapping[str, Any]) -> Silence:
        return cls(
            silence_id=str(data["silence_id"]),
            name=str(data["name"]),
            until=float(data["until"]),
            created_at=float(data.get("created_at", 0.0)),
            matchers={str(k): str(v) for k, v in data.get("matchers", {}).items()},
            comment=data.get("comment"),
        )


def add_silence(
    store: Store,
    name: str,
    until: float,
    matchers: Mapping[str, str] | None = None,
    comment: str | None = None,
    now: float | None = None,
) -> Silence:
    now = time.time() if now is None else now
    if until <= now:
        raise SilenceError(
            f"the silence of {name!r} would end in the past ({until:.0f}); "
            "give a future time or a positive duration"
        )
    if name != "*" and name not in catalogue():
        raise SilenceError(
            f"no alert named {name!r}: use one of "
            + ", ".join(sorted(catalogue()))
            + ", or '*' with --match (e.g. policy=NAME for a Monitoring policy "
            "outside the catalogue)"
        )

    silence = Silence(
        silence_id=uuid.uuid4().hex[:12],
        name=name,
        until=until,
        created_at=now,
        matchers=dict(matchers or {}),
        comment=comment,
    )
    store.put_document(
        COLLECTION, silence.silence_id, asdict(silence), ttl_seconds=until - now
    )
    return silence


def remove_silence(store: Store, silence_id: str) -> Silence:
    data = store.get_document(COLLECTION, silence_id)
    if data is None:
        raise SilenceError(
            f"no active silence has id {silence_id!r}; "
            "`alerts list` shows the active ones"
        )
    store.delete_document(COLLECTION, silence_id)
    return Silence.from_document(data)


def active_silences(store: Store, now: float | None = None) -> list[Silence]:
    now = time.time() if now is None else now
    silences = [
        Silence.from_document(data)
        for data in store.list_documents(COLLECTION).values()
    ]
    active = [silence for silence in silences if silence.until > now]
    return sorted(active, key=lambda silence: silence.until)


def silence_for(store: Store, alert: Alert, now: float) -> Silence | None:
    """The active silence covering `alert`, if any."""
    for silence in active_silences(store, now):
        if silence.covers(alert, now):
            return silence
    return None
