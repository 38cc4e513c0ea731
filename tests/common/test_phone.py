from __future__ import annotations

import pytest

from common.phone import is_e164


@pytest.mark.parametrize(
    "number", ["+15551234567", "+442071838750", "+4930123456", "+123456789012345"]
)
def test_a_plausible_international_number_is_e164(number: str) -> None:
    assert is_e164(number)


@pytest.mark.parametrize(
    "number",
    [
        "+1555",  # too short to be anyone's number
        "+1234567",  # seven digits
        "+1234567890123456",  # sixteen digits
        "15551234567",  # no +
        "+05551234567",  # a country code never starts with 0
        "+1 555 123 4567",
        "+1555123456\n",
        15551234567,  # what YAML makes of an unquoted number
        None,
    ],
)
def test_anything_else_is_not_e164(number: object) -> None:
    assert not is_e164(number)
