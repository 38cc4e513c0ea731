"""alert_router: every alert, from the functions or Cloud Monitoring, to the
people on call, once. Triggered by the alerts Pub/Sub topic through Eventarc;
deployed with `--entry-point=alert_router`.
"""

from __future__ import annotations

import importlib
from typing import Any

import functions_framework

from common import context
from common.alerts.router import handle_event
from common.runtime import boot
from functions.alert_router import REQUIRED_SECRETS

boot(required_secrets=REQUIRED_SECRETS)


@functions_framework.cloud_event
def alert_router(cloud_event: Any) -> None:
    """Decode the `messagePublished` event and route the alert it carries.

    Raises only when a destination failed in a way a redelivery can fix.
    """
    try:
        handle_event(cloud_event.data)
    finally:
        _flush_error_tracking()
        context.clear()


def _flush_error_tracking() -> None:
    try:
        tracking = importlib.import_module("common.tracking")
    except ImportError:
        return
    tracking.flush()
