"""The destination fakes of the router's own tests, shared with the function's."""

from __future__ import annotations

from tests.common.alerts.conftest import http, sleeps

__all__ = ["http", "sleeps"]
