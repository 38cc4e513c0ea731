"""The operator's silence commands: `python -m tools.admin alerts ...`."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from common.alerts.silences import active_silences
from common.settings import Settings
from common.store import get_store
from tests.conftest import LogCapture
from tools import admin

Configure = Callable[..., tuple[Settings, LogCapture]]


def test_silence_for_a_duration_with_matches_then_list_and_lift(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configure()

    silence_command = ["alerts", "silence", "error_rate_spike", "--for", "2h"]
    code = admin.main([*silence_command, "--match", "route=/v1/chat", "--json"])
    [silence] = active_silences(get_store())
    admin.main(["alerts", "list", "--json"])
    listed = json.loads(capsys.readouterr().out.splitlines()[-1])
    lifted = admin.main(["alerts", "unsilence", silence.silence_id])

    assert code == 0
    assert silence.matchers == {"route": "/v1/chat"}
    assert 7190 < silence.until - time.time() <= 7200
    assert listed["silences"][0]["silence_id"] == silence.silence_id
    assert lifted == 0
    assert active_silences(get_store()) == []


def test_silence_until_an_iso_time_is_listed_for_a_person(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configure()

    admin.main(["alerts", "silence", "*", "--until", "2999-01-01T00:00:00Z"])
    admin.main(["alerts", "list"])

    [silence] = active_silences(get_store())
    assert silence.until == 32472144000.0
    assert "*  until 2999-01-01T00:00:00Z" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["silence", "error_rate_spike", "--for", "soon"],
        ["silence", "error_rate_spike", "--until", "tomorrow"],
        ["silence", "error_rate_spike", "--until", "2001-01-01T00:00:00Z"],
        ["silence", "error_rate_spike", "--for", "1h", "--match", "route"],
        ["unsilence", "nope"],
    ],
)
def test_wrong_requests_exit_2_with_the_reason(
    configure: Configure, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    configure()

    assert admin.main(["alerts", *argv]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_name_outside_the_catalogue_is_refused_with_the_known_names(
    configure: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configure()

    code = admin.main(["alerts", "silence", "nope_alert", "--for", "2h"])

    error = capsys.readouterr().err
    assert code == 2
    assert len(error.strip().splitlines()) == 1
    assert "'nope_alert'" in error
    assert "twilio_webhook_failure" in error
    assert active_silences(get_store()) == []
