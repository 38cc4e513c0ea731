"""Which destinations an alert goes to.

By default a P0 pages PagerDuty and posts to Slack, a P1 posts to Slack, and
the generic webhook receives both when `ALERT_WEBHOOK_URL` is set. A YAML
file named by `ALERT_ROUTING_FILE` replaces those defaults; the first route
whose `match` fits the alert wins (see `deploy/alert-routing.example.yaml`):

    routes:
      - match: {severity: P1, alert: [rate_limit_ip_anomaly]}
        destinations: []            # known noise: log only
      - match: {severity: P0}
        destinations: [pagerduty, slack, webhook]
      - match: {route: /v1/chat}    # any other key matches a label
        destinations: [slack]
    default: [slack]                # when no route matches
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from common.alerts.model import Alert
from common.settings import Settings

DESTINATIONS = ("pagerduty", "slack", "webhook")


class RoutingError(ValueError):
    """The routing file cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class Route:
    # Key to the accepted values: `severity`, `alert` (the name), `source`,
    # or a label (or correlation field) name.
    match: Mapping[str, tuple[str, ...]]
    destinations: tuple[str, ...]

    def fits(self, alert: Alert) -> bool:
        return all(
            alert_field(alert, key) in accepted for key, accepted in self.match.items()
        )


@dataclass(frozen=True)
class Routing:
    routes: tuple[Route, ...]
    default: tuple[str, ...]

    def destinations_for(self, alert: Alert) -> tuple[str, ...]:
        for route in self.routes:
            if route.fits(alert):
                return route.destinations
        return self.default


def alert_field(alert: Alert, key: str) -> str | None:
    """What a route or silence compares: severity, name, source or a label."""
    if key == "severity":
        return alert.severity
    if key in ("alert", "name"):
        return alert.name
    if key == "source":
        return alert.source
    return alert.labels.get(key, alert.correlation.get(key))


def default_routing(settings: Settings) -> Routing:
    return _default_routing(webhook=bool(settings.alert_webhook_url))


@cache
def _default_routing(webhook: bool) -> Routing:
    """Built once per process for each case: routing runs for every alert."""
    also = ("webhook",) if webhook else ()
    return Routing(
        routes=(
            Route({"severity": ("P0",)}, ("pagerduty", "slack", *also)),
            Route({"severity": ("P1",)}, ("slack", *also)),
        ),
        default=("slack", *also),
    )


_loaded: dict[str, tuple[float, Routing]] = {}


def routing_for(settings: Settings) -> Routing:
    """The routing in force: the file's when one is named, else the defaults.

    The file is read again only when it changes, so an edit applies to the
    next alert without a restart.
    """
    path = settings.alert_routing_file
    if not path:
        return default_routing(settings)
    try:
        modified = os.stat(path).st_mtime
    except OSError as exc:
        raise RoutingError(
            f"ALERT_ROUTING_FILE={path!r} cannot be read ({exc}); "
            "point it at a YAML routing file or unset it"
        ) from exc
    cached = _loaded.get(path)
    if cached is not None and cached[0] == modified:
        return cached[1]
    with open(path, encoding="utf-8") as handle:
        routing = parse_routing(handle.read(), path)
    _loaded[path] = (modified, routing)
    return routing


def parse_routing(text: str, origin: str = "routing file") -> Routing:
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise RoutingError(f"{origin} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise RoutingError(f"{origin} must be a mapping with `routes` and `default`")
    unknown = sorted(set(document) - {"routes", "default"})
    if unknown:
        raise RoutingError(
            f"{origin} has unknown key(s) {unknown}: only `routes` and `default`"
        )

    routes = []
    raw_routes = document.get("routes")
    raw_routes = [] if raw_routes is None else raw_routes
    if not isinstance(raw_routes, list):
        raise RoutingError(f"{origin}: `routes` must be a list of routes")
    for index, raw in enumerate(raw_routes):
        where = f"{origin}, route {index + 1}"
        if not isinstance(raw, dict) or "destinations" not in raw:
            raise RoutingError(f"{where} needs `match` and `destinations`")
        routes.append(
            Route(
                match=_match(raw.get("match") or {}, where),
                destinations=_destinations(raw["destinations"], where),
            )
        )
    default = _destinations(document.get("default", ["slack"]), f"{origin}, default")
    return Routing(routes=tuple(routes), default=default)


def _match(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, dict):
        raise RoutingError(f"{where}: `match` must map a key to a value or a list")
    match = {}
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        match[str(key)] = tuple(str(item) for item in values)
    severities = set(match.get("severity", ())) - {"P0", "P1"}
    if severities:
        raise RoutingError(f"{where}: severity {sorted(severities)} is not P0 or P1")
    return match


def _destinations(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise RoutingError(f"{where}: destinations must be a list")
    unknown = [str(name) for name in raw if name not in DESTINATIONS]
    if unknown:
        raise RoutingError(
            f"{where}: unknown destination(s) {unknown}; use " + ", ".join(DESTINATIONS)
        )
    return tuple(str(name) for name in raw)
