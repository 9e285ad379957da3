"""The server-side bar charts: well-formed SVG, numbers as text, hidden cells never sized."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from trainops_reporting.api.console_charts import HIDDEN_WIDTH, Bar, Group, Marks, bar_chart

NS = "{http://www.w3.org/2000/svg}"
MARKS = Marks(primary="<5", complementary="hidden", legend_hidden="Hidden")
SERIES = ("Registered", "Attended")


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def _bars(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{NS}rect") if "bar" in r.get("class", "").split()]


def test_bars_scale_to_the_largest_shown_value_and_carry_their_numbers() -> None:
    svg = bar_chart(
        "c",
        "Registered and attended by city",
        SERIES,
        [
            Group("Almaty", (Bar(20), Bar(10))),
            Group("Aktau", (Bar(5), Bar(0))),
        ],
        MARKS,
    )
    root = _parse(svg)
    assert root.get("role") == "img"
    assert root.findtext(f"{NS}title") == "Registered and attended by city"
    assert root.get("aria-labelledby") == "c-title"
    widths = [float(bar.get("width", "")) for bar in _bars(root)]
    assert widths[0] > widths[1] > widths[2] > widths[3] == 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.1)
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert texts[:3] == ["Registered", "Attended", "Hidden"]  # the legend
    assert texts[3:] == ["Almaty", "20", "10", "Aktau", "5", "0"]
    # Without colour: the two series have different fills (solid and a dot pattern).
    assert _bars(root)[0].get("fill") != _bars(root)[1].get("fill")
    assert _bars(root)[1].get("fill") == "url(#c-dots)"


def test_hidden_cells_are_hatched_boxes_of_one_width_with_their_mark() -> None:
    svg = bar_chart(
        "h",
        "t",
        SERIES,
        [
            Group("Almaty", (Bar(None, "primary"), Bar(None, "complementary"))),
            Group("Aktau", (Bar(400), Bar(None, "primary"))),
        ],
        MARKS,
    )
    root = _parse(svg)
    hidden = [b for b in _bars(root) if "hidden" in b.get("class", "")]
    assert len(hidden) == 3
    assert {b.get("width") for b in hidden} == {str(HIDDEN_WIDTH)}
    assert all(b.get("fill") == "url(#h-hatch)" for b in hidden)
    texts = [t.text for t in root.iter(f"{NS}text")][3:]
    assert texts == ["Almaty", "Registered: <5", "Attended: hidden", "Aktau", "400", "Attended: <5"]
    assert "<5" not in svg  # escaped in the markup
    # A hidden value never sizes anything: the same chart whatever the hidden counts were.
    again = bar_chart(
        "h",
        "t",
        SERIES,
        [
            Group("Almaty", (Bar(None, "primary"), Bar(None, "complementary"))),
            Group("Aktau", (Bar(400), Bar(None, "primary"))),
        ],
        MARKS,
    )
    assert again == svg


def test_fixed_scale_decimals_no_value_and_escaping() -> None:
    svg = bar_chart(
        "m",
        "Satisfaction <by> month & more",
        ["Mean"],
        [Group("2020-12", (Bar(4.25),)), Group("2021-01", (Bar(None),))],
        MARKS,
        scale_max=5,
        decimals=2,
    )
    root = _parse(svg)
    assert root.findtext(f"{NS}title") == "Satisfaction <by> month & more"
    (bar,) = _bars(root)
    assert float(bar.get("width", "")) == pytest.approx((400 - 84) * 4.25 / 5, abs=0.1)
    texts = [t.text for t in root.iter(f"{NS}text")][2:]
    assert texts == ["2020-12", "4.25", "2021-01", "Mean: –"]


def test_every_group_needs_a_bar_per_series() -> None:
    with pytest.raises(ValueError, match="one bar per series"):
        bar_chart("x", "t", SERIES, [Group("Almaty", (Bar(1),))], MARKS)


def test_an_empty_chart_is_still_valid_svg() -> None:
    root = _parse(bar_chart("e", "t", SERIES, [], MARKS))
    assert _bars(root) == []
