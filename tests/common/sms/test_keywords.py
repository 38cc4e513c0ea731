from __future__ import annotations

import pytest

from common.sms.keywords import keyword_of


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("STOP", "opt_out"),
        ("  stop  ", "opt_out"),
        ("Unsubscribe", "opt_out"),
        ("optout", "opt_out"),
        ("start", "opt_in"),
        ("UNSTOP", "opt_in"),
        ("Yes", "opt_in"),
        ("help", "help"),
        ("INFO", "help"),
        ("please stop", None),
        ("stop it", None),
        ("STOP!", None),
        ("", None),
        ("stopping by at noon", None),
    ],
)
def test_only_a_whole_keyword_counts(body: str, keyword: str | None) -> None:
    assert keyword_of(body) == keyword
