"""The first rows of a row-level list as static HTML (app/views/table_html.py): each cell as the data grid shows it
(the grid's date and number formats, "—" where missing), text escaped, links only where the frame holds one."""
from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import polars as pl

from app.views.table_html import table_html


class Cells(HTMLParser):
    """A table's header and its rows' cells as the reader reads them, with each cell's link (or None)."""

    def __init__(self):
        super().__init__()
        self.head, self.rows, self.links, self._cell, self._href = [], [], [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([]), self.links.append([])
        elif tag in ("td", "th"):
            self._cell, self._href = "", None
        elif tag == "a":
            self._href = dict(attrs)["href"]
            assert dict(attrs)["target"] == "_blank"

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell), self.links[-1].append(self._href)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def cells(markup: str) -> Cells:
    parser = Cells()
    parser.feed(markup)
    parser.head = parser.rows.pop(0)
    parser.links.pop(0)
    return parser


COLUMNS = {"view": ("PR", ("link", "view")), "title": ("Title", "wide"), "number": ("#", "int"),
           "merged_at": ("Merged (UTC)", "datetime"), "url": ("Link", ("link", "open")), "how": ("How", "short")}


def test_each_cell_reads_as_the_grid_shows_it():
    frame = pl.DataFrame({
        "view": ["pr?id=github%3Aacme%2Fpay%2312", "pr?id=x"],
        # text is shown literally: markup and Markdown stay characters
        "title": ["Fix <script>alert(1)</script> & **bold**", None],
        "number": [12, None],
        # 23:30 at UTC+2 is 21:30 UTC; the grid shows UTC to the minute
        "merged_at": [dt.datetime(2026, 3, 2, 23, 30, 59, tzinfo=dt.timezone(dt.timedelta(hours=2))), None],
        "url": ["https://github.com/acme/pay/pull/12?a=1&b=\"2\"", None],
        "how": ["co-authored", "label or branch"],
    })
    markup = table_html(frame, COLUMNS)
    assert "<script>" not in markup and "**bold**" in markup
    table = cells(markup)
    assert table.head == ["PR", "Title", "#", "Merged (UTC)", "Link", "How"]
    assert table.rows == [
        ["view", "Fix <script>alert(1)</script> & **bold**", "12", "2026-03-02 21:30", "open", "co-authored"],
        ["view", "—", "—", "—", "—", "label or branch"],
    ]
    # the single-PR view's relative path and the PR's own http(s) link, each its cell's target; none where missing
    assert table.links == [
        ["pr?id=github%3Aacme%2Fpay%2312", None, None, None, 'https://github.com/acme/pay/pull/12?a=1&b="2"', None],
        ["pr?id=x", None, None, None, None, None],
    ]
    # a narrow page scrolls the table sideways; a link's words and a text's words are never broken letter by letter
    # (the first screenshot showed "v/i/e/w" and "co-/aut/hor/ed" stacked in their cells)
    assert markup.count('<td class="link"><a ') == 3 and ".rowsPreview td.link{" in markup.replace(
        ".rowsPreview td.when,.rowsPreview td.short,", "")
    assert "overflow-wrap:anywhere" not in markup and "overflow-wrap:break-word" in markup


def test_no_rows_is_the_header_alone():
    frame = pl.DataFrame(schema={"view": pl.String, "title": pl.String, "number": pl.Int64,
                                 "merged_at": pl.Datetime("us", "UTC"), "url": pl.String, "how": pl.String})
    table = cells(table_html(frame, COLUMNS))
    assert table.head == ["PR", "Title", "#", "Merged (UTC)", "Link", "How"] and table.rows == []
