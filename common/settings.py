"""Every setting of the product, read once from the environment at cold start.

`load_settings` parses strictly: a bad value raises `SettingsError` naming the
variable and what it expects, and the process stops before serving anything.
In `ENVIRONMENT=prod` the secrets a function needs must be set; elsewhere the
documented development defaults below apply, so that `make run` works on a
fresh machine.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from common.phone import E164_FORM, is_e164

ENVIRONMENTS = ("dev", "test", "staging", "prod")
LOG_FORMATS = ("json", "plain")
ASSISTANT_PROVIDERS = ("embedded", "openai")

# Development defaults for secrets. They are public on purpose: they let a
# newcomer sign requests locally and are refused in prod.
DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token"  # noqa: S105 (public dev default)
DEV_TWILIO_WEBHOOK_SHARED_KEY = "dev-twilio-shared-key"
DEV_STRIPE_WEBHOOK_SECRET = "whsec_dev_secret"  # noqa: S105

SECRET_NAMES = (
    "TWILIO_AUTH_TOKEN",
    "TWILIO_WEBHOOK_SHARED_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_KEY",
    "ASSISTANT_API_KEY",
    "ALERT_PAGERDUTY_ROUTING_KEY",
    "ALERT_SLACK_WEBHOOK_URL",
    "ALERT_WEBHOOK_SECRET",
    "SENTRY_DSN",
)

_T = TypeVar("_T")


class SettingsError(ValueError):
    """A variable is missing or malformed; the message names it and the fix."""


@dataclass(frozen=True)
class RateLimit:
    """Requests allowed per window for one channel, per business and per IP."""

    per_business: int | None
    per_ip: int | None
    window_seconds: int


@dataclass(frozen=True)
class Settings:
    # Identity and logs.
    environment: str = "dev"
    service_name: str = "ai-telephony-backend"
    log_format: str = "plain"
    log_level: str = "INFO"
    log_message_bodies: bool = False
    google_cloud_project: str | None = None

    # HTTP edge.
    public_base_url: str | None = None
    trusted_proxy_count: int = 0
    max_body_bytes: int = 65536
    port: int = 8080

    # Provider secrets.
    twilio_auth_token: str | None = None
    twilio_webhook_shared_key: str | None = None
    twilio_account_sid: str | None = None
    # Sender of owner notifications when the business has no number of its own.
    twilio_from_number: str | None = None
    stripe_webhook_secrets: tuple[str, ...] = ()
    stripe_webhook_tolerance_seconds: int = 300
    stripe_api_key: str | None = None

    # State.
    store: str = "sqlite:///.data/app.db"
    store_cache_seconds: float = 30.0
    idempotency_ttl_seconds: int = 7 * 24 * 3600
    outbox_dir: str = ".data/outbox"

    # Assistant.
    assistant_provider: str = "embedded"
    assistant_base_url: str | None = None
    assistant_api_key: str | None = None
    assistant_model: str | None = None
    voice_turn_deadline_ms: int = 3000
    sms_turn_deadline_ms: int = 8000
    chat_turn_deadline_ms: int = 8000
    sms_max_segments: int = 3
    conversation_max_turns: int = 20

    # Rate limits per channel.
    rate_limit_window_seconds: int = 60
    rate_limits: Mapping[str, RateLimit] = field(default_factory=dict)

    # Alert detection (names fixed by the operations guide).
    twilio_webhook_failure_alert_threshold: int | None = None
    billing_webhook_failure_alert_threshold: int | None = None
    latency_alert_threshold_ms: int | None = None
    latency_alert_paths: tuple[str, ...] = ("/v1/voice", "/v1/chat", "/v1/widget")
    rate_limit_anomaly_threshold_business: int | None = None
    rate_limit_anomaly_threshold_ip: int | None = None
    rate_limit_anomaly_threshold_5xx: int | None = None
    alert_window_seconds: int = 300
    runbook_base_url: str = "wiki/Runbooks"
    alert_topic: str | None = None
    fault_injection_routes: tuple[str, ...] = ()

    # Alert routing.
    alert_repeat_interval_seconds: int = 3600
    alert_pagerduty_routing_key: str | None = None
    alert_pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    alert_slack_webhook_url: str | None = None
    alert_webhook_url: str | None = None
    alert_webhook_secret: str | None = None
    alert_routing_file: str | None = None

    # Error tracking.
    sentry_dsn: str | None = None
    sentry_traces_sample_rate: float = 0.0
    sentry_release: str | None = None

    # Demo tenant seeded by the local runtime.
    demo_phone_number: str = "+15005550006"
    demo_api_key: str | None = None

    @property
    def is_prod(self) -> bool:
        return self.environment == "prod"

    def rate_limit(self, channel: str) -> RateLimit:
        default = RateLimit(None, None, self.rate_limit_window_seconds)
        return self.rate_limits.get(channel, default)


# Channels with their own rate limits: RATE_LIMIT_<CHANNEL>_PER_BUSINESS and
# RATE_LIMIT_<CHANNEL>_PER_IP, requests per RATE_LIMIT_WINDOW_SECONDS.
# Twilio calls from its own shared addresses, so an IP limit on the Twilio
# channels would throttle every tenant at once: they are limited per business
# unless an operator sets RATE_LIMIT_SMS_PER_IP or RATE_LIMIT_VOICE_PER_IP.
RATE_LIMIT_CHANNELS: dict[str, tuple[int | None, int | None]] = {
    "sms": (600, None),
    "voice": (300, None),
    "chat": (600, 120),
    "widget": (300, 30),
}


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _parse(
    env: Mapping[str, str],
    name: str,
    parse: Callable[[str], _T],
    expects: str,
) -> _T | None:
    raw = _text(env, name)
    if raw is None:
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not valid: expected {expects}") from exc


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError("not positive")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("negative")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 1 <= value <= 65535:
        raise ValueError("out of range")
    return value


def _non_negative_float(raw: str) -> float:
    value = float(raw)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("negative or not finite")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("not positive")
    return value


def _rate(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("out of range")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")


def _choice(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)

    def parse(raw: str) -> str:
        value = raw.lower()
        if value not in allowed:
            raise ValueError("not a choice")
        return value

    return parse


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _paths(raw: str) -> tuple[str, ...]:
    paths = _csv(raw)
    for path in paths:
        if not path.startswith("/"):
            raise ValueError("a path must start with /")
    return paths


def _url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")) or raw[-3:] == "://":
        raise ValueError("not an http(s) URL")
    return raw.rstrip("/")


def _e164(raw: str) -> str:
    if not is_e164(raw):
        raise ValueError("not E.164")
    return raw


def _level(raw: str) -> str:
    value = raw.upper()
    if value not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError("not a level")
    return value


def _alert_topic(env: Mapping[str, str]) -> str | None:
    """ALERT_TOPIC, a full topic path or a topic id of GOOGLE_CLOUD_PROJECT."""
    topic = _text(env, "ALERT_TOPIC")
    if topic is None:
        return None
    if topic.startswith("projects/"):
        if not re.fullmatch(r"projects/[^/]+/topics/[^/]+", topic):
            raise SettingsError(
                f"ALERT_TOPIC={topic!r} is not valid: expected "
                "projects/<project>/topics/<topic> or a bare topic id"
            )
        return topic
    if _text(env, "GOOGLE_CLOUD_PROJECT") is None:
        raise SettingsError(
            f"ALERT_TOPIC={topic!r} is a bare topic id and GOOGLE_CLOUD_PROJECT "
            "is not set: set GOOGLE_CLOUD_PROJECT or give the full "
            "projects/<project>/topics/<topic> path"
        )
    return topic


def _or(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def check_secrets(
    names: Iterable[str], environment: str, env: Mapping[str, str] | None = None
) -> None:
    """In prod, stop start-up when one of the secrets `names` is not set."""
    env = os.environ if env is None else env
    missing = [name for name in names if _text(env, name) is None]
    if environment != "prod" or not missing:
        return

    others = f" (also missing: {', '.join(missing[1:])})" if missing[1:] else ""
    raise SettingsError(
        f"{missing[0]} is required when ENVIRONMENT=prod; "
        f"feed it from Secret Manager{others}"
    )


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    required_secrets: Iterable[str] = (),
) -> Settings:
    """Parse the environment into `Settings`.

    `required_secrets` names the secrets the calling function cannot work
    without; in prod a missing one raises `SettingsError`.
    """
    env = os.environ if env is None else env
    environment = _or(
        _parse(
            env,
            "ENVIRONMENT",
            _choice(ENVIRONMENTS),
            "one of " + "|".join(ENVIRONMENTS),
        ),
        "dev",
    )
    is_prod = environment == "prod"
    check_secrets(required_secrets, environment, env)

    def dev_default(name: str, default: str) -> str | None:
        value = _text(env, name)
        if value is None and not is_prod:
            return default
        return value

    stripe_secrets = _csv(
        dev_default("STRIPE_WEBHOOK_SECRET", DEV_STRIPE_WEBHOOK_SECRET) or ""
    )
    for secret in stripe_secrets:
        if not secret.startswith("whsec_"):
            raise SettingsError(
                "STRIPE_WEBHOOK_SECRET holds a value that does not start with "
                "'whsec_': expected comma-separated endpoint secrets from the "
                "Stripe dashboard"
            )

    window = _or(
        _parse(env, "RATE_LIMIT_WINDOW_SECONDS", _positive_int, "a positive integer"),
        60,
    )
    rate_limits: dict[str, RateLimit] = {}
    for channel, (business_default, ip_default) in RATE_LIMIT_CHANNELS.items():
        prefix = f"RATE_LIMIT_{channel.upper()}"
        per_business = _parse(
            env,
            f"{prefix}_PER_BUSINESS",
            _non_negative_int,
            "a whole number (0 disables)",
        )
        per_ip = _parse(
            env, f"{prefix}_PER_IP", _non_negative_int, "a whole number (0 disables)"
        )
        rate_limits[channel] = RateLimit(
            per_business=_or(per_business, business_default) or None,
            per_ip=_or(per_ip, ip_default) or None,
            window_seconds=window,
        )

    fault_routes = _or(
        _parse(env, "FAULT_INJECTION_ROUTES", _paths, "comma-separated paths"), ()
    )
    if fault_routes and is_prod:
        raise SettingsError(
            "FAULT_INJECTION_ROUTES is refused when ENVIRONMENT=prod: "
            "unset it, it exists for dev and staging drills"
        )

    positive = "a positive integer"
    return Settings(
        environment=environment,
        service_name=_or(_text(env, "SERVICE_NAME"), "ai-telephony-backend"),
        log_format=_or(
            _parse(env, "LOG_FORMAT", _choice(LOG_FORMATS), "json or plain"), "plain"
        ),
        log_level=_or(
            _parse(env, "LOG_LEVEL", _level, "DEBUG|INFO|WARNING|ERROR"), "INFO"
        ),
        log_message_bodies=_or(
            _parse(env, "LOG_MESSAGE_BODIES", _bool, "true or false"), False
        ),
        google_cloud_project=_text(env, "GOOGLE_CLOUD_PROJECT"),
        public_base_url=_parse(env, "PUBLIC_BASE_URL", _url, "an http(s) URL"),
        trusted_proxy_count=_or(
            _parse(env, "TRUSTED_PROXY_COUNT", _non_negative_int, "a whole number"), 0
        ),
        max_body_bytes=_or(
            _parse(env, "MAX_BODY_BYTES", _positive_int, positive), 65536
        ),
        port=_or(_parse(env, "PORT", _port, "a TCP port from 1 to 65535"), 8080),
        twilio_auth_token=dev_default("TWILIO_AUTH_TOKEN", DEV_TWILIO_AUTH_TOKEN),
        twilio_webhook_shared_key=dev_default(
            "TWILIO_WEBHOOK_SHARED_KEY", DEV_TWILIO_WEBHOOK_SHARED_KEY
        ),
        twilio_account_sid=_text(env, "TWILIO_ACCOUNT_SID"),
        twilio_from_number=_parse(
            env, "TWILIO_FROM_NUMBER", _e164, f"an E.164 number: {E164_FORM}"
        ),
        stripe_webhook_secrets=stripe_secrets,
        stripe_webhook_tolerance_seconds=_or(
            _parse(env, "STRIPE_WEBHOOK_TOLERANCE_SECONDS", _positive_int, positive),
            300,
        ),
        stripe_api_key=_text(env, "STRIPE_API_KEY"),
        store=_or(_text(env, "STORE"), "sqlite:///.data/app.db"),
        store_cache_seconds=_or(
            _parse(
                env,
                "STORE_CACHE_SECONDS",
                _non_negative_float,
                "a number of seconds, 0 or more",
            ),
            30.0,
        ),
        idempotency_ttl_seconds=_or(
            _parse(env, "IDEMPOTENCY_TTL_SECONDS", _positive_int, positive),
            7 * 24 * 3600,
        ),
        outbox_dir=_or(_text(env, "OUTBOX_DIR"), ".data/outbox"),
        assistant_provider=_or(
            _parse(
                env,
                "ASSISTANT_PROVIDER",
                _choice(ASSISTANT_PROVIDERS),
                "embedded or openai",
            ),
            "embedded",
        ),
        assistant_base_url=_parse(env, "ASSISTANT_BASE_URL", _url, "an http(s) URL"),
        assistant_api_key=_text(env, "ASSISTANT_API_KEY"),
        assistant_model=_text(env, "ASSISTANT_MODEL"),
        voice_turn_deadline_ms=_or(
            _parse(env, "VOICE_TURN_DEADLINE_MS", _positive_int, positive), 3000
        ),
        sms_turn_deadline_ms=_or(
            _parse(env, "SMS_TURN_DEADLINE_MS", _positive_int, positive), 8000
        ),
        chat_turn_deadline_ms=_or(
            _parse(env, "CHAT_TURN_DEADLINE_MS", _positive_int, positive), 8000
        ),
        sms_max_segments=_or(
            _parse(env, "SMS_MAX_SEGMENTS", _positive_int, positive), 3
        ),
        conversation_max_turns=_or(
            _parse(env, "CONVERSATION_MAX_TURNS", _positive_int, positive), 20
        ),
        rate_limit_window_seconds=window,
        rate_limits=rate_limits,
        twilio_webhook_failure_alert_threshold=_parse(
            env, "TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD", _positive_int, positive
        ),
        billing_webhook_failure_alert_threshold=_parse(
            env, "BILLING_WEBHOOK_FAILURE_ALERT_THRESHOLD", _positive_int, positive
        ),
        latency_alert_threshold_ms=_parse(
            env, "LATENCY_ALERT_THRESHOLD_MS", _positive_int, positive
        ),
        latency_alert_paths=_or(
            _parse(env, "LATENCY_ALERT_PATHS", _paths, "comma-separated path prefixes"),
            ("/v1/voice", "/v1/chat", "/v1/widget"),
        ),
        rate_limit_anomaly_threshold_business=_parse(
            env, "RATE_LIMIT_ANOMALY_THRESHOLD_BUSINESS", _positive_int, positive
        ),
        rate_limit_anomaly_threshold_ip=_parse(
            env, "RATE_LIMIT_ANOMALY_THRESHOLD_IP", _positive_int, positive
        ),
        rate_limit_anomaly_threshold_5xx=_parse(
            env, "RATE_LIMIT_ANOMALY_THRESHOLD_5XX", _positive_int, positive
        ),
        alert_window_seconds=_or(
            _parse(env, "ALERT_WINDOW_SECONDS", _positive_int, positive), 300
        ),
        runbook_base_url=_or(_text(env, "RUNBOOK_BASE_URL"), "wiki/Runbooks").rstrip(
            "/"
        ),
        alert_topic=_alert_topic(env),
        fault_injection_routes=fault_routes,
        alert_repeat_interval_seconds=_or(
            _parse(env, "ALERT_REPEAT_INTERVAL_SECONDS", _positive_int, positive), 3600
        ),
        alert_pagerduty_routing_key=_text(env, "ALERT_PAGERDUTY_ROUTING_KEY"),
        alert_pagerduty_events_url=_or(
            _parse(env, "ALERT_PAGERDUTY_EVENTS_URL", _url, "an http(s) URL"),
            "https://events.pagerduty.com/v2/enqueue",
        ),
        alert_slack_webhook_url=_parse(
            env, "ALERT_SLACK_WEBHOOK_URL", _url, "an http(s) URL"
        ),
        alert_webhook_url=_parse(env, "ALERT_WEBHOOK_URL", _url, "an http(s) URL"),
        alert_webhook_secret=_text(env, "ALERT_WEBHOOK_SECRET"),
        alert_routing_file=_text(env, "ALERT_ROUTING_FILE"),
        sentry_dsn=_text(env, "SENTRY_DSN"),
        sentry_traces_sample_rate=_or(
            _parse(env, "SENTRY_TRACES_SAMPLE_RATE", _rate, "a number from 0 to 1"), 0.0
        ),
        sentry_release=_text(env, "SENTRY_RELEASE"),
        demo_phone_number=_or(
            _parse(env, "DEMO_PHONE_NUMBER", _e164, f"an E.164 number: {E164_FORM}"),
            "+15005550006",
        ),
        demo_api_key=_text(env, "DEMO_API_KEY"),
    )


_current: Settings | None = None


def get_settings() -> Settings:
    """The process's settings, parsed on first use and kept."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def set_settings(settings: Settings | None) -> None:
    """Replace the process's settings (start-up code and tests)."""
    global _current
    _current = settings
