"""A tile's sparkline as static HTML (app/views/sparkline.py): where each point lies, worked out by hand, what a hover
shows, the exact values it carries, and what it refuses."""
from __future__ import annotations

import base64
import html
import json
import re

import pytest

from app.views.sparkline import COLOURS, points, sparkline_html


def test_points_span_the_width_and_the_values_lowest_to_highest():
    # 5 values over 1000 units: x every 250; y from 54 (the lowest, 10) to 2 (the highest, 30): 20 → 28
    assert points([10.0, 30.0, 20.0, 10.0, 30.0]) == [[(0.0, 54.0), (250.0, 2.0), (500.0, 28.0), (750.0, 54.0),
                                                        (1000.0, 2.0)]]


def test_a_missing_value_breaks_the_line_and_equal_values_sit_in_the_middle():
    # None and NaN end a run; the finite values are all 4.0: the middle (28)
    assert points([4.0, None, 4.0, 4.0, float("nan")]) == [[(0.0, 28.0)], [(500.0, 28.0), (750.0, 28.0)]]
    assert points([None, None]) == []


def _parts(markup: str) -> tuple[str, list[str], list[str], list]:
    image = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', markup).group(1)
    svg = base64.b64decode(image).decode()
    tips = re.findall(r'<span title="([^"]*)" style="flex:([0-9.]+)"', markup)
    values = json.loads(html.unescape(re.search(r'data-values="([^"]*)"', markup).group(1)))
    return svg, [t for t, _ in tips], [f for _, f in tips], values


def test_the_line_the_hover_and_the_exact_values():
    markup = sparkline_html([0.25, 0.5, None, 0.75], "red", ["25.0%", "50.0%", "—", "75.0%"])
    svg, tips, flex, values = _parts(markup)
    # the run before the gap is a line (0.25 the lowest: y 54; 0.5 halfway: 28), the one point after it a dot (0.75,
    # the highest: y 2); in the red of a worse tile's delta
    assert '<polyline points="0.0,54.0 333.33,28.0"' in svg and f'stroke="{COLOURS["red"]}"' in svg
    assert '<circle cx="1000.0" cy="2.0"' in svg
    # one strip per period, its value in words; the two on the edges half as wide (their points sit on the edges)
    assert tips == ["25.0%", "50.0%", "—", "75.0%"] and flex == ["0.5", "1", "1", "0.5"]
    assert values == [0.25, 0.5, None, 0.75]


def test_a_tooltip_is_text_never_markup():
    markup = sparkline_html([1.0, 2.0], "gray", ['<b>"1"</b>', "2"])
    assert "<b>" not in markup and "&lt;b&gt;&quot;1&quot;&lt;/b&gt;" in markup


def test_each_value_needs_its_tooltip():
    with pytest.raises(ValueError, match="3 values needs as many tooltips, not 2"):
        sparkline_html([1.0, 2.0, 3.0], "green", ["1", "2"])
