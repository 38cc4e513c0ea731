"""The functions, their identities, secrets, store and checks around them."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from common.alerts.router import PUBSUB_BUDGET_SECONDS
from common.settings import SECRET_NAMES, Settings
from tests.terraform.conftest import ROOT, TERRAFORM_DIR, Config
from tools.package import FUNCTIONS

_THRESHOLD_SETTINGS = re.compile(
    r"threshold|^latency_alert_paths$|^alert_window_seconds$"
    r"|^alert_repeat_interval_seconds$|^runbook_base_url$|^public_base_url$"
)


def _functions(config: Config) -> dict[str, dict[str, object]]:
    functions: dict[str, dict[str, object]] = config.locals["functions"]
    return functions


def _required_secrets(name: str) -> set[str]:
    """What the function's `boot()` insists on, declared in its package."""
    package = importlib.import_module(f"functions.{name}")
    return set(package.REQUIRED_SECRETS)


def test_terraform_files_are_formatted() -> None:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not on PATH (CI installs it): cannot check format")

    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM_DIR)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, (
        f"run `terraform fmt -recursive terraform`:\n{result.stdout}"
    )


def test_google_provider_is_pinned_to_a_version_with_saved_queries(
    config: Config,
) -> None:
    providers = config.blocks["terraform"][0]["required_providers"][0]
    version = providers["google"]["version"]

    assert providers["google"]["source"] == "hashicorp/google"
    match = re.fullmatch(r"(~>|=)?\s*7\.(\d+)(?:\.\d+)?", version)
    assert match is not None, f"pin google to 7.x, got {version!r}"
    assert int(match.group(2)) >= 18, (
        f"google_logging_saved_query needs 7.18: {version}"
    )


def test_every_function_is_deployed_from_its_own_archive(config: Config) -> None:
    function = config.resource("google_cloudfunctions2_function", "function")
    source = config.resource("google_storage_bucket_object", "source")
    build = function["build_config"][0]

    assert sorted(_functions(config)) == sorted(FUNCTIONS)
    assert function["for_each"] == "${local.functions}"
    assert build["runtime"] == "python311"
    assert build["entry_point"] == "${each.key}"
    assert "each.key}.zip" in source["source"]
    assert "filemd5" in source["name"], "a code change must change the object name"
    assert "google_storage_bucket_object.source[each.key].name" in str(build["source"])


def test_every_function_runs_as_its_own_service_account(config: Config) -> None:
    accounts = config.resource("google_service_account", "function")
    service = config.resource("google_cloudfunctions2_function", "function")[
        "service_config"
    ][0]

    assert accounts["for_each"] == "${local.functions}"
    assert (
        service["service_account_email"]
        == "${google_service_account.function[each.key].email}"
    )


def test_functions_log_json_and_use_firestore_and_the_alerts_topic(
    config: Config,
) -> None:
    environment = config.locals["common_environment"]

    for setting in (
        'LOG_FORMAT = "json"',
        "ENVIRONMENT = var.environment",
        'STORE = "firestore"',
        "ALERT_TOPIC = google_pubsub_topic.alerts.id",
    ):
        assert setting in re.sub(r"\s+", " ", environment), setting


def test_twilio_webhooks_time_out_within_twilios_15_seconds(config: Config) -> None:
    for name, function in _functions(config).items():
        assert isinstance(function["timeout"], int)
        if name.startswith("twilio_"):
            assert function["timeout"] <= 15, name
        assert function["max_instances"] >= function["min_instances"], name


def test_every_function_gets_the_secrets_it_cannot_start_without(
    config: Config,
) -> None:
    for name, function in _functions(config).items():
        secrets = set(function["secrets"])  # type: ignore[call-overload]

        assert secrets <= set(SECRET_NAMES), f"{name}: unknown secret"
        assert _required_secrets(name) <= secrets, name


def test_secrets_arrive_from_secret_manager_one_grant_per_secret(
    config: Config,
) -> None:
    service = config.resource("google_cloudfunctions2_function", "function")[
        "service_config"
    ][0]
    dynamic = service["dynamic"][0]["secret_environment_variables"]
    grant = config.resource("google_secret_manager_secret_iam_member", "reader")

    assert "each.value.secrets" in dynamic["for_each"]
    assert dynamic["content"][0]["key"] == "${secret.value}"
    assert grant["role"] == "roles/secretmanager.secretAccessor"
    assert grant["for_each"] == "${local.secret_readers}"
    assert "google_service_account.function[each.value.function]" in grant["member"]


def test_secrets_variable_accepts_exactly_the_settings_secret_names(
    config: Config,
) -> None:
    condition = config.variables["secrets"]["validation"][0]["condition"]

    assert set(re.findall(r'"([A-Z_]+)"', condition)) == set(SECRET_NAMES)


def test_alert_router_is_triggered_by_the_alerts_topic_with_retries(
    config: Config,
) -> None:
    function = config.resource("google_cloudfunctions2_function", "function")
    trigger = function["dynamic"][0]["event_trigger"]
    content = trigger["content"][0]
    router = _functions(config)["alert_router"]

    assert router["public"] is False
    assert "each.value.public" in trigger["for_each"]
    assert content["event_type"] == "google.cloud.pubsub.topic.v1.messagePublished"
    assert content["pubsub_topic"] == "${google_pubsub_topic.alerts.id}"
    assert content["retry_policy"] == "RETRY_POLICY_RETRY"
    assert content["service_account_email"] == (
        "${google_service_account.alert_trigger.email}"
    )
    invoker = config.resource(
        "google_cloud_run_service_iam_member", "alert_trigger_invoker"
    )
    assert invoker["member"] == "${google_service_account.alert_trigger.member}"


def test_alert_router_outlives_its_delivery_budget(config: Config) -> None:
    router = _functions(config)["alert_router"]

    assert isinstance(router["timeout"], int)
    assert router["timeout"] >= 60
    assert router["timeout"] >= PUBSUB_BUDGET_SECONDS + 15


def test_only_public_functions_are_invokable_by_anyone(config: Config) -> None:
    public = config.resource("google_cloud_run_service_iam_member", "public_invoker")

    assert public["for_each"] == "${local.http_functions}"
    assert public["member"] == "allUsers"
    assert public["role"] == "roles/run.invoker"
    assert "fn.public" in config.locals["http_functions"]


def test_http_functions_may_publish_alerts(config: Config) -> None:
    grant = config.resource("google_pubsub_topic_iam_member", "alert_publisher")
    functions = _functions(config)

    assert grant["role"] == "roles/pubsub.publisher"
    assert grant["topic"] == "${google_pubsub_topic.alerts.id}"
    assert all(
        functions[name]["publishes"] for name in functions if name != "alert_router"
    )


def _ttl_collections() -> list[str]:
    """`TTL_COLLECTIONS` of the Firestore store, read without importing it."""
    source = ROOT / "common" / "store" / "firestore.py"
    if not source.is_file():
        pytest.skip("common/store/firestore.py is absent: nothing to compare")
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == "TTL_COLLECTIONS" for target in node.targets
        ):
            return sorted(ast.literal_eval(node.value))
    pytest.fail("common/store/firestore.py no longer defines TTL_COLLECTIONS")


def test_ttl_policies_cover_every_collection_the_store_expires(config: Config) -> None:
    expected = _ttl_collections()
    field = config.resource("google_firestore_field", "expires_at")

    assert field["for_each"] == "${local.ttl_collections}"
    assert field["field"] == "expires_at"
    assert "ttl_config" in field
    declared = re.findall(r'"(\w+)"', config.locals["ttl_collections"])
    assert sorted(declared) == expected


def test_every_threshold_setting_is_a_terraform_variable(config: Config) -> None:
    settings = [
        item.name
        for item in dataclasses.fields(Settings)
        if _THRESHOLD_SETTINGS.search(item.name)
    ]

    assert len(settings) >= 10
    assert sorted(set(settings) - set(config.variables)) == []


def test_saved_queries_cover_the_operators_views(config: Config) -> None:
    queries = config.locals["saved_queries"]

    assert 'jsonPayload.event=\\"twilio_signature_rejected\\"' in str(queries) or (
        "twilio_signature_rejected" in str(queries)
    )
    assert "jsonPayload.business_id" in str(queries["twilio-signature-failures"])
    assert "jsonPayload.request_id" in str(queries["stripe-webhook-errors"])
    assert "jsonPayload.business_id" in str(queries["tenant-errors"])


# Plain-text secrets: no literal that looks like a credential, no default on a
# variable that holds one, no secret value managed (and so stored in state).

_CREDENTIAL = re.compile(
    r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{8,}|\bwhsec_[0-9A-Za-z]{8,}"
    r"|\bSK[0-9a-f]{32}\b|\bAC[0-9a-f]{32}\b|-----BEGIN [A-Z ]*PRIVATE KEY"
    r"|hooks\.slack\.com/services/|\bxox[abp]-|https://[^/\s]+@sentry\.io"
)


def _terraform_files() -> list[Path]:
    return sorted(
        path
        for path in TERRAFORM_DIR.iterdir()
        if path.suffix == ".tf" or path.name.endswith(".example")
    )


@pytest.mark.parametrize("path", _terraform_files(), ids=lambda path: path.name)
def test_no_credential_is_written_in_terraform(path: Path) -> None:
    assert _CREDENTIAL.findall(path.read_text()) == []


def test_no_variable_holding_a_secret_has_a_default(config: Config) -> None:
    secretive = re.compile(r"token|secret_value|password|api_key|dsn|routing_key")

    for name, variable in config.variables.items():
        if secretive.search(name):
            assert variable.get("default") is None, name
            assert variable.get("sensitive") is True, name


def test_secret_values_never_pass_through_terraform_state(config: Config) -> None:
    assert "google_secret_manager_secret_version" not in config.resources
    assert "google_secret_manager_secret_version" not in config.data


def test_firestore_has_the_index_listing_deliveries_of_one_source(
    config: Config,
) -> None:
    index = config.resource("google_firestore_index", "deliveries_by_source")

    assert index["collection"] == "deliveries"
    assert index["database"] == "${google_firestore_database.store.name}"
    assert index["query_scope"] == "COLLECTION"
    assert [(field["field_path"], field["order"]) for field in index["fields"]] == [
        ("source", "ASCENDING"),
        ("received_at", "DESCENDING"),
    ]
