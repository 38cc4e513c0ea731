"""Making a real part fail on purpose, once, to test what happens next."""

from __future__ import annotations

from typing import Any

import pytest


def fail_first_call(
    monkeypatch: pytest.MonkeyPatch, target: object, method: str, error: Exception
) -> list[Any]:
    """Make `target.<method>` raise `error` on its first call only.

    Returns the list of calls seen (their keyword arguments), which grows.
    """
    original = getattr(target, method)
    calls: list[Any] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 1:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, method, flaky)
    return calls
