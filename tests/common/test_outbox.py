from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from common import outbox
from common.settings import Settings
from tests.conftest import LogCapture


def test_written_records_read_back_in_order(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    settings, _ = configure()

    outbox.write("owner-notifications", {"kind": "message_taken", "text": "Call Ana"})
    outbox.write("owner-notifications", {"kind": "new_lead", "text": "Café ☕ order"})

    records = outbox.read("owner-notifications")
    assert [record["kind"] for record in records] == ["message_taken", "new_lead"]
    assert records[1]["text"] == "Café ☕ order"
    assert all(isinstance(record["at"], float) for record in records)
    assert outbox.path_for("owner-notifications") == (
        Path(settings.outbox_dir) / "owner-notifications.jsonl"
    )


def test_channels_are_kept_apart(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    configure()

    outbox.write("slack", {"text": "P0 fired"})

    assert outbox.read("pagerduty") == []
    assert outbox.read("slack")[0]["text"] == "P0 fired"


def test_channel_that_is_not_a_plain_name_is_refused(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    configure()

    with pytest.raises(ValueError, match=r"'\.\./escape' must be letters, digits"):
        outbox.write("../escape", {"text": "x"})


def test_a_deleted_outbox_file_is_written_again(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    configure()
    outbox.write("alerts", {"text": "first"})
    outbox.path_for("alerts").unlink()

    outbox.write("alerts", {"text": "second"})

    assert [record["text"] for record in outbox.read("alerts")] == ["second"]


def test_each_line_is_readable_as_soon_as_it_is_written(
    configure: Callable[..., tuple[Settings, LogCapture]],
) -> None:
    configure()

    outbox.write("alerts", {"text": "one"})
    first = outbox.path_for("alerts").read_text()
    outbox.write("alerts", {"text": "two"})

    assert first.count("\n") == 1
    assert len(outbox.read("alerts")) == 2
