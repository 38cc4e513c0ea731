from __future__ import annotations

import pytest

from common.settings import SettingsError, load_settings


def test_defaults_serve_a_fresh_machine() -> None:
    settings = load_settings({})

    assert settings.environment == "dev"
    assert settings.log_format == "plain"
    assert settings.twilio_auth_token == "dev-twilio-auth-token"
    assert settings.stripe_webhook_secrets == ("whsec_dev_secret",)
    assert settings.latency_alert_paths == ("/v1/voice", "/v1/chat", "/v1/widget")
    assert settings.runbook_base_url == "wiki/Runbooks"
    assert settings.twilio_webhook_failure_alert_threshold is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOG_FORMAT", "xml"),
        ("ENVIRONMENT", "production-ish"),
        ("TWILIO_WEBHOOK_FAILURE_ALERT_THRESHOLD", "0"),
        ("LATENCY_ALERT_THRESHOLD_MS", "fast"),
        ("LATENCY_ALERT_PATHS", "v1/chat"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.5"),
        ("PUBLIC_BASE_URL", "example.com"),
        ("LOG_MESSAGE_BODIES", "maybe"),
        ("PORT", "99999"),
        ("PORT", "0"),
        ("STORE_CACHE_SECONDS", "-1"),
        ("STORE_CACHE_SECONDS", "nan"),
        ("ALERT_TOPIC", "projects/acme/alerts"),
        ("DEMO_PHONE_NUMBER", "555-0006"),
        ("DEMO_PHONE_NUMBER", "+1555"),
        ("TWILIO_FROM_NUMBER", "+1555"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


def test_prod_refuses_to_start_without_a_required_secret() -> None:
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN"):
        load_settings({"ENVIRONMENT": "prod"}, required_secrets=("TWILIO_AUTH_TOKEN",))


def test_prod_gets_no_dev_secrets() -> None:
    settings = load_settings({"ENVIRONMENT": "prod"})

    assert settings.twilio_auth_token is None
    assert settings.stripe_webhook_secrets == ()


def test_stripe_secrets_are_a_list_for_rotation() -> None:
    settings = load_settings({"STRIPE_WEBHOOK_SECRET": "whsec_old, whsec_new"})

    assert settings.stripe_webhook_secrets == ("whsec_old", "whsec_new")


def test_stripe_secret_that_is_not_an_endpoint_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="STRIPE_WEBHOOK_SECRET"):
        load_settings({"STRIPE_WEBHOOK_SECRET": "sk_live_oops"})


def test_fault_injection_is_refused_in_prod() -> None:
    with pytest.raises(SettingsError, match="FAULT_INJECTION_ROUTES"):
        load_settings({"ENVIRONMENT": "prod", "FAULT_INJECTION_ROUTES": "/v1/chat"})


def test_rate_limits_are_per_channel_and_zero_disables() -> None:
    settings = load_settings(
        {"RATE_LIMIT_CHAT_PER_IP": "0", "RATE_LIMIT_SMS_PER_BUSINESS": "5"}
    )

    assert settings.rate_limit("chat").per_ip is None
    assert settings.rate_limit("sms").per_business == 5


def test_sender_number_that_is_not_e164_is_refused() -> None:
    with pytest.raises(SettingsError, match="TWILIO_FROM_NUMBER='555-0100'"):
        load_settings({"TWILIO_FROM_NUMBER": "555-0100"})


def test_a_port_in_range_and_a_zero_cache_are_accepted() -> None:
    settings = load_settings({"PORT": "65535", "STORE_CACHE_SECONDS": "0"})

    assert settings.port == 65535
    assert settings.store_cache_seconds == 0.0


def test_bare_alert_topic_without_project_is_refused_naming_both() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"ALERT_TOPIC": "alerts"})

    assert "ALERT_TOPIC='alerts'" in str(refused.value)
    assert "GOOGLE_CLOUD_PROJECT" in str(refused.value)


@pytest.mark.parametrize(
    "env",
    [
        {"ALERT_TOPIC": "projects/acme/topics/alerts"},
        {"ALERT_TOPIC": "alerts", "GOOGLE_CLOUD_PROJECT": "acme"},
    ],
)
def test_alert_topic_with_its_project_is_accepted(env: dict[str, str]) -> None:
    assert load_settings(env).alert_topic == env["ALERT_TOPIC"]
