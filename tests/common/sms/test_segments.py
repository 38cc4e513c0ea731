from __future__ import annotations

import pytest

from common.sms.segments import count_segments, fit_segments


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("", "GSM-7", 0),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("Café à 5€, ñoño", "GSM-7", 1),
        ("{" * 80, "GSM-7", 1),
        ("{" * 81, "GSM-7", 2),
        ("ж" * 70, "UCS-2", 1),
        ("ж" * 71, "UCS-2", 2),
        ("ж" * 134, "UCS-2", 2),
        ("😀" * 35, "UCS-2", 1),
        ("😀" * 36, "UCS-2", 2),
        ("a" * 159 + "😀", "UCS-2", 3),
    ],
)
def test_segments_follow_the_encoding_of_the_text(
    text: str, encoding: str, segments: int
) -> None:
    counted = count_segments(text)

    assert counted.encoding == encoding
    assert counted.segments == segments


def test_an_escaped_gsm_character_never_straddles_two_segments() -> None:
    # 152 plain characters leave one septet in the first part: "€" needs two.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3


def test_an_emoji_never_straddles_two_segments() -> None:
    # 66 code units leave one in the first part: the emoji needs two.
    assert count_segments("ж" * 66 + "😀" + "ж" * 66).segments == 3


def test_a_text_that_fits_is_left_alone() -> None:
    assert fit_segments("See you soon!", 1) == "See you soon!"


@pytest.mark.parametrize("max_segments", [1, 2, 3])
def test_a_long_text_is_cut_at_a_word_to_the_segments_allowed(
    max_segments: int,
) -> None:
    text = "Fresh sourdough every morning. " * 40

    cut = fit_segments(text, max_segments)

    assert count_segments(cut).segments == max_segments
    assert cut.endswith("...")
    assert text[len(cut) - 3] == " "  # cut between words
    assert text.startswith(cut[:-3])


@pytest.mark.parametrize("text", ["😀" * 500, "ж😀" * 300, "{€" * 400])
def test_cutting_never_splits_a_character(text: str) -> None:
    cut = fit_segments(text, 2)

    assert count_segments(cut).segments <= 2
    assert text.startswith(cut[:-3])
    cut.encode("utf-8")  # a lone surrogate would raise here


def test_zero_segments_is_refused_with_the_bad_value() -> None:
    with pytest.raises(ValueError, match="max_segments=0"):
        fit_segments("hello", 0)
