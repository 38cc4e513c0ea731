"""The operator's silence commands."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from common.alerts.silences import active_silences
from common.settings import Settings
from common.store import get_store
from tests.conftest import LogCapture
from tools import admin_alerts

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_silence_for_a_duration_with_matches_then_list_and_lift(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configure()

    code = admin_alerts.main(
        ["silence", "error_rate_spike", "--for", "2h", "--match", "route=/v1/chat"]
    )
    [silence] = active_silences(get_store())
    admin_alerts.main(["list", "--json"])
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    lifted = admin_alerts.main(["unsilence", silence.silence_id])

    assert code == 0
    assert silence.matchers == {"route": "/v1/chat"}
    assert 7190 < silence.until - time.time() <= 7200
    assert listed["silence_id"] == silence.silence_id
    assert lifted == 0
    assert active_silences(get_store()) == []


def test_silence_until_an_iso_time(configure: Configure) -> None:
    configure()

    admin_alerts.main(["silence", "*", "--until", "2999-01-01T00:00:00Z"])

    [silence] = active_silences(get_store())
    assert silence.until == 32472144000.0


@pytest.mark.parametrize(
    "argv",
    [
        ["silence", "x", "--for", "soon"],
        ["silence", "x", "--until", "tomorrow"],
        ["silence", "x", "--until", "2001-01-01T00:00:00Z"],
        ["silence", "x", "--for", "1h", "--match", "route"],
        ["unsilence", "nope"],
    ],
)
def test_wrong_requests_exit_2_with_the_reason(
    configure: Configure, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    configure()

    assert admin_alerts.main(argv) == 2
    assert capsys.readouterr().err.startswith("error: ")
