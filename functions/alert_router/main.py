"""alert_router: every alert, from the functions or Cloud Monitoring, to the
people on call, once. Triggered by the alerts Pub/Sub topic through Eventarc;
deployed with `--entry-point=alert_router`.
"""

from __future__ import annotations

from typing import Any

import functions_framework

from common.logs import get_logger
from common.runtime import boot

boot()
log = get_logger(__name__)


@functions_framework.cloud_event
def alert_router(cloud_event: Any) -> None:
    log.warning(
        "alert_router_pending",
        "alert routing is not built yet; the message is acknowledged and dropped",
        status=501,
    )
