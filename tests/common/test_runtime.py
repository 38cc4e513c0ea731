from __future__ import annotations

from collections.abc import Callable

import pytest

from common import runtime
from common.settings import Settings, SettingsError
from tests.conftest import LogCapture

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_a_later_boot_in_prod_still_refuses_a_missing_secret(
    configure: Configure,
) -> None:
    configure(ENVIRONMENT="prod")

    with pytest.raises(SettingsError, match=r"^TWILIO_AUTH_TOKEN is required"):
        runtime.boot(required_secrets=("TWILIO_AUTH_TOKEN",))


def test_a_later_boot_in_prod_accepts_a_secret_that_is_set(
    configure: Configure,
) -> None:
    settings, _ = configure(ENVIRONMENT="prod", STRIPE_WEBHOOK_SECRET="whsec_live")

    again = runtime.boot(required_secrets=("STRIPE_WEBHOOK_SECRET",))

    assert again is settings


def test_a_later_boot_outside_prod_needs_no_secret(configure: Configure) -> None:
    settings, _ = configure(ENVIRONMENT="staging")

    assert runtime.boot(required_secrets=("TWILIO_AUTH_TOKEN",)) is settings
