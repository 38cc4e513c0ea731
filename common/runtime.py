"""Cold start: read the settings, install logging and error tracking, once.

Each function's `main.py` calls `boot()` at import, which is the cold start
of its instance. A bad setting raises `SettingsError` there, so the instance
never serves with a half-understood configuration.

Boot is also the one place where every HTTP function gets its guards (rate
limits, fault injection) and its alert detection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from common import guards, http, tracking
from common.alerts import detect
from common.logs import configure_logging, get_logger
from common.settings import (
    Settings,
    check_secrets,
    get_settings,
    load_settings,
    set_settings,
)

log = get_logger(__name__)

_booted = False
# Secrets some boot() call required and found (or did not need, outside prod).
_checked_secrets: set[str] = set()
# Extra start-up steps registered by other modules (error tracking, guards).
_start_hooks: list[Callable[[Settings], None]] = []


def on_boot(hook: Callable[[Settings], None]) -> None:
    if hook not in _start_hooks:
        _start_hooks.append(hook)


def boot(required_secrets: Iterable[str] = ()) -> Settings:
    """Load settings and set up the process; later calls return the same settings.

    A later call still checks the secrets it requires that no earlier call
    did, so a process hosting several functions needs the secrets of each.
    """
    global _booted
    required = tuple(required_secrets)
    if _booted:
        settings = get_settings()
        unchecked = [name for name in required if name not in _checked_secrets]
        check_secrets(unchecked, settings.environment)
        _checked_secrets.update(unchecked)
        return settings

    settings = load_settings(required_secrets=required)
    _checked_secrets.update(required)
    set_settings(settings)
    configure_logging(settings)
    tracking.init(settings)
    http.add_guard(guards.limit_client_ip)
    http.add_guard(guards.inject_fault)
    http.add_observer(detect.observe_request)
    for hook in _start_hooks:
        hook(settings)
    _booted = True
    return settings


def reset() -> None:
    """Forget the boot so the next `boot()` reads the environment again (tests)."""
    global _booted
    _booted = False
    _checked_secrets.clear()
    set_settings(None)
