"""A few rows of a row-level table as static HTML (`st.html`): the first rows of a list whose every row sits one
click away in the data grid (`ui.on_open`) and in its CSV download.

Why not the grid for them: a data grid costs the browser its set-up (~0.35 CPU-s, docs/performance-log.md, draw10)
and its rows are serialized, sent and parsed whatever it shows; one `st.html` is one element whose markup the
browser parses natively. Cells are text, escaped (never Markdown or HTML); a missing one reads "—" as in the grid;
dates and numbers in the grid's own formats ("YYYY-MM-DD HH:mm" in UTC, "%d"); links only where the frame holds
them (the single-item view's relative path, or an http(s) URL: `reports.format.link_column` leaves nothing else)
and open in a new tab, as the grid's link columns do.
"""
from __future__ import annotations

import datetime as dt
import html

import polars as pl

# Kinds of column: "text" (wrapped between words, never inside one: a narrow page scrolls the table sideways
# rather than break "view" or "co-authored" letter by letter), "wide" (text given room), "short" (one line);
# "int" (the grid's "%d"); "datetime" (the grid's "YYYY-MM-DD HH:mm", UTC); ("link", words): the value is the
# link's target, the words are shown (one line).
_STYLE = ("<style>.rowsPreview{width:100%;border-collapse:collapse;font-size:0.875rem;line-height:1.4}"
          ".rowsPreview th{text-align:left;font-weight:400;color:rgba(49,51,63,0.6);padding:0.25rem 0.5rem;"
          "border-bottom:1px solid rgba(49,51,63,0.2);white-space:nowrap}"
          ".rowsPreview td{padding:0.25rem 0.5rem;border-bottom:1px solid rgba(49,51,63,0.1);vertical-align:top;"
          "overflow-wrap:break-word}.rowsPreview td.num{text-align:right;white-space:nowrap}"
          ".rowsPreview td.when,.rowsPreview td.short,.rowsPreview td.link{white-space:nowrap}"
          ".rowsPreview td.wide{min-width:14rem}"
          ".rowsPreview a{color:#0068c9}</style>")
MISSING = "—"


def cell_text(value, kind) -> str:
    """A cell as the grid shows it (`kind`: see the module), before escaping."""
    if value is None or (isinstance(value, float) and value != value):
        return MISSING
    if kind == "int":
        return f"{int(value):d}"
    if kind == "datetime":
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(kind, tuple):
        return kind[1]
    return str(value)


def _cell(value, kind) -> str:
    text = html.escape(cell_text(value, kind), quote=False)
    if isinstance(kind, tuple) and value is not None:
        return f'<td class="link"><a href="{html.escape(str(value))}" target="_blank">{text}</a></td>'
    if isinstance(kind, tuple):
        return f"<td>{MISSING}</td>"
    css = {"int": ' class="num"', "datetime": ' class="when"', "short": ' class="short"', "wide": ' class="wide"'}.get(kind, "")
    return f"<td{css}>{text}</td>"


def table_html(frame: pl.DataFrame, columns: dict[str, tuple[str, object]]) -> str:
    """`frame`'s rows, in its order, as a static table: `columns` maps each column shown, in order, to its label
    and its kind."""
    head = "".join(f"<th>{html.escape(label, quote=False)}</th>" for label, _ in columns.values())
    values = [frame.get_column(name).to_list() for name in columns]
    kinds = [kind for _, kind in columns.values()]
    rows = "".join("<tr>" + "".join(_cell(v[i], k) for v, k in zip(values, kinds)) + "</tr>"
                   for i in range(frame.height))
    return (f'{_STYLE}<div style="overflow-x:auto"><table class="rowsPreview" data-testid="rowsPreview"><thead><tr>{head}'
            f"</tr></thead><tbody>{rows}</tbody></table></div>")
