"""Find the log lines of one request, business, call or message.

    python -m tools.logs --project my-project --request-id 7f3c...
    python -m tools.logs --business-id biz-123 --event rate_limit_triggered --since 6h
    python -m tools.logs --call-sid CA... --severity WARNING --print-query

Reads Cloud Logging (google-cloud-logging, with the caller's application
default credentials) and prints each entry in the plain format of the
functions' own logs, oldest first. After the entries, or instead of them
with `--print-query`, it prints the same search for Logs Explorer, Loki and
Datadog, so a search can move to whichever store the logs are shipped to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any
from urllib.parse import quote

SEVERITIES = (
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
)
CORRELATION_FIELDS = ("request_id", "business_id", "call_sid", "message_sid")
DEFAULT_SERVICE = "ai-telephony-backend"
# Keys shown in the line's head, or that only Cloud Logging needs.
_HEAD_KEYS = frozenset(
    {"severity", "message", "time", "event", "service", "environment", "logger"}
    | set(CORRELATION_FIELDS)
)
_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Datadog's statuses for our severities, from the least severe up.
_DATADOG_STATUS = {
    "DEBUG": "debug",
    "INFO": "info",
    "NOTICE": "notice",
    "WARNING": "warn",
    "ERROR": "error",
    "CRITICAL": "critical",
    "ALERT": "alert",
    "EMERGENCY": "emergency",
}


class QueryError(ValueError):
    """A search option is malformed; the message names it and the fix."""


@dataclass(frozen=True)
class Query:
    """One correlation search, independent of the log store."""

    since: datetime
    until: datetime | None = None
    request_id: str | None = None
    business_id: str | None = None
    call_sid: str | None = None
    message_sid: str | None = None
    event: str | None = None
    severity: str | None = None
    service: str = DEFAULT_SERVICE
    environment: str | None = None

    def fields(self) -> dict[str, str]:
        """The JSON fields the lines must carry, in a stable order."""
        named = {
            "service": self.service,
            "environment": self.environment,
            "request_id": self.request_id,
            "business_id": self.business_id,
            "call_sid": self.call_sid,
            "message_sid": self.message_sid,
            "event": self.event,
        }
        return {key: value for key, value in named.items() if value}

    def severities(self) -> list[str]:
        """This severity and every more severe one."""
        if self.severity is None:
            return []
        return list(SEVERITIES[SEVERITIES.index(self.severity) :])


def parse_time(raw: str, now: datetime) -> datetime:
    """`15m`, `6h`, `2d` before now, or an ISO 8601 time (UTC unless stated)."""
    match = _DURATION.match(raw.strip())
    if match:
        amount, unit = int(match.group(1)), _UNITS[match.group(2)]
        return now - timedelta(**{unit: amount})
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise QueryError(
            f"{raw!r} is not a time: use a duration such as 30m, 6h, 2d or an "
            "ISO 8601 time such as 2025-01-31T14:00:00Z"
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quoted(value: str) -> str:
    return json.dumps(value)


def cloud_logging_filter(query: Query) -> str:
    """The filter for Logs Explorer and the Logging API."""
    clauses = ['resource.type="cloud_run_revision"']
    clauses += [
        f"jsonPayload.{key}={_quoted(value)}" for key, value in query.fields().items()
    ]
    if query.severity:
        clauses.append(f"severity>={query.severity}")
    clauses.append(f'timestamp>="{_rfc3339(query.since)}"')
    if query.until:
        clauses.append(f'timestamp<="{_rfc3339(query.until)}"')
    return "\n".join(clauses)


def logs_explorer_url(query: Query, project: str) -> str:
    encoded = quote(cloud_logging_filter(query), safe="")
    return (
        f"https://console.cloud.google.com/logs/query;query={encoded}"
        f"?project={quote(project, safe='')}"
    )


def loki_query(query: Query) -> str:
    """LogQL: `service` and `environment` are stream labels, the rest fields."""
    labels = {"service": query.service}
    if query.environment:
        labels["environment"] = query.environment
    selector = ", ".join(f"{key}={_quoted(value)}" for key, value in labels.items())
    stages = [f"{{{selector}}}", "json"]
    stages += [
        f"{key}={_quoted(value)}"
        for key, value in query.fields().items()
        if key not in labels
    ]
    if query.severity:
        stages.append(f"severity=~{_quoted('|'.join(query.severities()))}")
    return " | ".join(stages)


def datadog_query(query: Query) -> str:
    """Log Explorer search: reserved `service`/`env`, the rest `@` attributes."""
    terms = [f"service:{query.service}"]
    if query.environment:
        terms.append(f"env:{query.environment}")
    terms += [
        f"@{key}:{_datadog_value(value)}"
        for key, value in query.fields().items()
        if key not in ("service", "environment")
    ]
    statuses = [
        _DATADOG_STATUS[level]
        for level in query.severities()
        if level in _DATADOG_STATUS
    ]
    if statuses:
        terms.append(f"status:({' OR '.join(statuses)})")
    return " ".join(terms)


def _datadog_value(value: str) -> str:
    return value if re.fullmatch(r"[\w.+-]+", value) else _quoted(value)


def time_range_note(query: Query) -> str:
    until = _rfc3339(query.until) if query.until else "now"
    return f"{_rfc3339(query.since)} to {until}"


def make_client(project: str) -> Any:
    """A Logging API client with the caller's application default credentials."""
    from google.cloud import logging as cloud_logging

    return cloud_logging.Client(project=project)


def fetch(client: Any, query: Query, project: str, limit: int) -> list[Any]:
    """The matching entries, oldest first, at most `limit`."""
    from google.cloud import logging as cloud_logging

    entries = client.list_entries(
        resource_names=[f"projects/{project}"],
        filter_=cloud_logging_filter(query),
        order_by=cloud_logging.ASCENDING,
        max_results=limit,
    )
    return list(entries)


def format_entry(entry: Any) -> str:
    """One entry as the plain log format: head fields, the rest, `| message`."""
    payload = entry.payload if isinstance(entry.payload, Mapping) else {}
    timestamp = entry.timestamp
    moment = (
        timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        if isinstance(timestamp, datetime)
        else str(payload.get("time", "-"))
    )
    parts = [
        moment,
        str(entry.severity or payload.get("severity") or "DEFAULT"),
        str(payload.get("event", "-")),
        f"service={payload.get('service', '-')}",
        f"environment={payload.get('environment', '-')}",
    ]
    parts += [f"{key}={payload.get(key, '-')}" for key in CORRELATION_FIELDS]
    for key, value in payload.items():
        if key in _HEAD_KEYS or key == "httpRequest":
            continue
        rendered = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"{key}={rendered}")
    message = payload.get("message")
    if message is None and isinstance(entry.payload, str):
        message = entry.payload
    line = " ".join(parts) + " | " + str(message or "")
    return line.replace("\r", "\\r").replace("\n", "\\n")


def print_queries(query: Query, project: str | None, out: IO[str]) -> None:
    print(f"# Cloud Logging (Logs Explorer), {time_range_note(query)}", file=out)
    print(cloud_logging_filter(query), file=out)
    if project:
        print(f"# {logs_explorer_url(query, project)}", file=out)
    print(f"# Loki (LogQL; set the range to {time_range_note(query)})", file=out)
    print(loki_query(query), file=out)
    print(
        f"# Datadog Log Explorer (set the range to {time_range_note(query)})", file=out
    )
    print(datadog_query(query), file=out)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.logs", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--project",
        default=os.environ.get("GOOGLE_CLOUD_PROJECT"),
        help="Google Cloud project (default: GOOGLE_CLOUD_PROJECT)",
    )
    for name in CORRELATION_FIELDS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name)
    parser.add_argument("--event", help="stable event name, e.g. request_completed")
    parser.add_argument(
        "--severity",
        type=str.upper,
        choices=SEVERITIES,
        help="this severity and above",
    )
    parser.add_argument("--since", default="1h", help="30m, 6h, 2d or an ISO time")
    parser.add_argument("--until", help="30m, 6h, 2d or an ISO time (default now)")
    parser.add_argument("--service", default=DEFAULT_SERVICE)
    parser.add_argument("--environment", help="dev, staging, prod ...")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument(
        "--print-query",
        action="store_true",
        help="print the queries for each store without calling the API",
    )
    return parser


def build_query(args: argparse.Namespace, now: datetime) -> Query:
    return Query(
        since=parse_time(args.since, now),
        until=parse_time(args.until, now) if args.until else None,
        request_id=args.request_id,
        business_id=args.business_id,
        call_sid=args.call_sid,
        message_sid=args.message_sid,
        event=args.event,
        severity=args.severity,
        service=args.service,
        environment=args.environment,
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    client: Any = None,
    now: datetime | None = None,
    out: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        query = build_query(args, now or datetime.now(UTC))
    except QueryError as exc:
        parser.error(str(exc))

    if args.print_query:
        print_queries(query, args.project, out)
        return 0
    if not args.project:
        parser.error("--project is required (or set GOOGLE_CLOUD_PROJECT)")

    entries = fetch(
        client or make_client(args.project), query, args.project, args.limit
    )
    _print_entries(entries, out)
    print(f"# {len(entries)} entries", file=out)
    print_queries(query, args.project, out)
    return 0


def _print_entries(entries: Iterable[Any], out: IO[str]) -> None:
    for entry in entries:
        print(format_entry(entry), file=out)


if __name__ == "__main__":
    sys.exit(main())
