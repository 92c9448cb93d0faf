"""Text on a track's colour reads at WCAG AA contrast whatever colour the organiser picks."""

import random

import pytest

from sessions_app.admin.display import contrast_ratio, text_colour_for


def test_contrast_ratio_matches_the_wcag_examples():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    # The admin's link blue on white, as axe-core reports it.
    assert contrast_ratio("#417893", "#ffffff") == pytest.approx(4.85, abs=0.01)


def test_text_on_any_track_colour_reaches_4_5_to_1():
    rng = random.Random(35)
    colours = [f"#{v:02x}{v:02x}{v:02x}" for v in range(256)]
    colours += [f"#{rng.randrange(0x1000000):06x}" for _ in range(5000)]
    # The demo's and the colours that failed before: mid greens, ambers, blues.
    colours += ["#16a34a", "#d97706", "#2563eb", "#7c3aed", "#dc2626", "#0891b2"]
    worst = min(contrast_ratio(text_colour_for(c), c) for c in colours)
    assert worst >= 4.5


def test_a_colour_that_is_not_one_gets_dark_text():
    assert text_colour_for("not a colour") == "#000000"
    assert text_colour_for("#12") == "#000000"
