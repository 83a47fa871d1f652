"""What a page shows, element by element, written to a file through AppTest; and two such files compared:
the check that a change to how a page is drawn leaves every number, text and chart as it was.

    python -m benchmarks.page_elements dump URL --page delivery [--query team=payments] --out FILE.json
    python -m benchmarks.page_elements compare BEFORE.json AFTER.json [--content]

`dump` runs the router (app/streamlit_app.py) with the warehouse at URL in this checkout's code, switches to
the page (run again from the start with every expander that builds its contents only once opened set open:
`closed_expanders`), and writes every element of the main area in order: texts (markdown, captions, headings, alerts),
metrics (value, delta, description, sparkline points), tables (every cell, the column labels and formats
of their column config), charts (each layer's mark and encoding with the rows it draws, whether the rows sit
in the layer or at the top of the spec, which Streamlit sends as Arrow beside it: the chart as drawn, not how its JSON is
laid out), widgets (label,
value) and download buttons (label, file name). Element ids and a download's file id are left out (VOLATILE).

`compare` prints the first differences and exits 1 when any element differs. `compare --content` compares what
a reader reads instead, whatever elements carry it and wherever they sit: every text paragraph by paragraph (a
caption holding a badge and three lines reads as the badge and three captions it replaced), tables, metrics and
charts whole (one drawn as static HTML by the spec it carries), a tile's sparkline by its values (drawn by the metric or as static HTML beside it), downloads by count (a deferred download names no file until clicked); it exits 1 when a part
of one page is missing from the other. The data panel's "loaded N min ago" is the only text that moves with the clock; it lives in the sidebar, which is not dumped.
"""
from __future__ import annotations

import argparse
import base64
import collections
import datetime as dt
import decimal
import html
import json
import math
import os
import re
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app" / "streamlit_app.py")
# Fields that differ between two runs of the same code: element ids (a hash of the arguments) and a deferred
# download's file id (random per run).
VOLATILE = ("id", "form_id", "deferred_file_id")


def _cell(value):
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else repr(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {k: _cell(v) for k, v in value.items()}
    return value


def _arrow_rows(data: bytes) -> dict:
    import pyarrow as pa

    table = pa.ipc.open_stream(data).read_all()
    index = [n for n in table.column_names if n.startswith("__index_level_")]
    table = table.drop_columns(index)
    return {"columns": table.column_names, "rows": [[_cell(v) for v in row.values()] for row in table.to_pylist()]}


def chart_as_drawn(spec: dict) -> dict:
    """A Vega-Lite spec as what it draws: each layer's mark, encoding, transforms and rows (its own data, else
    the spec's), and the spec's title, size and config; `usermeta` (embed options such as the renderer) apart."""
    top = (spec.get("data") or {}).get("values")
    layers = []
    for layer in spec.get("layer", [spec]):
        layers.append({"name": layer.get("name"), "mark": layer.get("mark"), "encoding": layer.get("encoding"),
                       "transform": layer.get("transform"),
                       "values": [_cell(v) for v in ((layer.get("data") or {}).get("values", top) or [])]})
    return {"title": spec.get("title"), "height": spec.get("height"), "config": spec.get("config"),
            "padding": spec.get("padding"), "background": spec.get("background"), "layers": layers,
            "usermeta": spec.get("usermeta")}


def _element(node) -> dict | None:
    from google.protobuf.json_format import MessageToDict

    proto = getattr(node, "proto", None)
    kind = node.type
    if proto is None:
        return None
    if kind in ("dataframe", "arrow_data_frame"):
        out = {"type": "dataframe"}
        if proto.arrow_data.data:
            out.update(_arrow_rows(proto.arrow_data.data))
        elif proto.HasField("lazy_data"):
            out["lazy"] = {"row_count": proto.lazy_data.row_count, "initial": _arrow_rows(proto.lazy_data.initial_chunk.data)}
        out["column_config"] = json.loads(proto.columns) if proto.columns else None
        out["selection_mode"] = list(proto.selection_mode)
        return out
    if kind in ("vega_lite_chart", "arrow_vega_lite_chart"):
        spec = json.loads(proto.spec)
        if proto.HasField("data") and proto.data.data:  # Streamlit sends a spec's top-level rows as Arrow, apart
            table = _arrow_rows(proto.data.data)
            spec["data"] = {"values": [dict(zip(table["columns"], row)) for row in table["rows"]]}
        return {"type": "chart", **chart_as_drawn(spec)}
    data = MessageToDict(proto, preserving_proto_field_name=True)
    for volatile in VOLATILE:
        data.pop(volatile, None)
    # an element's own "type" field (a button's primary / tertiary) is kept apart from its kind
    if "type" in data:
        data["style"] = data.pop("type")
    return {"type": kind, **data}


def _walk(node, out: list) -> None:
    children = getattr(node, "children", None)
    if children:
        for key in sorted(children):
            _walk(children[key], out)
        return
    element = _element(node)
    if element is not None:
        out.append(element)


def closed_expanders(at) -> list[str]:
    """The keys of the expanders of the main area that build their contents only once opened (app/components.on_open:
    a keyed `st.expander` whose state Streamlit tracks) and are closed."""
    closed = [e.proto.id for e in at.main.expander if e.proto.id and not e.proto.expanded]
    return [element_id.split("-", 2)[-1] for element_id in closed]  # `$$ID-<hash>-<user key>`


def open_expanders(at) -> list[str]:
    """Opens every closed expander that builds its contents only once opened (`closed_expanders`), as a reader
    clicking each would (its state set, the page run again), until none is left closed; returns their keys."""
    opened: list[str] = []
    while keys := [k for k in closed_expanders(at) if k not in opened]:
        for key in keys:
            at.session_state[key] = True
        opened += keys
        at.run()
    return opened


def _page_run(page: str, query: str, opened: list[str]):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=600)
    for key in opened:
        at.session_state[key] = True
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    if at.exception:
        raise SystemExit([e.value for e in at.exception])
    return at


def dump(url: str, page: str, query: str, out: str) -> None:
    os.environ["SCORECARD_WAREHOUSE_URL"] = url
    os.environ.pop("SCORECARD_CONFIG", None)
    # A closed expander holds its label alone: the page is run again from the start with those expanders open (as
    # a visitor's first run with them open: the URL's selections read as on the first run), until none is closed.
    opened: list[str] = []
    at = _page_run(page, query, opened)
    while keys := [k for k in closed_expanders(at) if k not in opened]:
        opened += keys
        at = _page_run(page, query, opened)
    elements: list = []
    _walk(at.main, elements)
    Path(out).write_text(json.dumps({"page": page, "query": query, "elements": elements}, indent=1, default=str) + "\n")
    kinds: dict[str, int] = {}
    for e in elements:
        kinds[e["type"]] = kinds.get(e["type"], 0) + 1
    print(f"{page}?{query}: {len(elements)} elements {kinds}" + (f", expanders opened: {', '.join(opened)}" if opened else ""),
          file=sys.stderr)


def compare(before: str, after: str) -> int:
    a, b = ([{k: v for k, v in e.items() if k not in VOLATILE} for e in json.loads(Path(path).read_text())["elements"]]
            for path in (before, after))
    differences = 0
    if len(a) != len(b):
        print(f"{len(a)} elements against {len(b)}")
        differences += 1
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            differences += 1
            if differences <= 10:
                keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
                print(f"element {i} ({x.get('type')} / {y.get('type')}) differs in {keys}: "
                      f"{json.dumps({k: x.get(k) for k in keys})[:400]} | {json.dumps({k: y.get(k) for k in keys})[:400]}")
    rows = sum(len(e.get("rows", [])) for e in a if e["type"] == "dataframe")
    charts = sum(1 for e in a if e["type"] == "chart")
    print(f"{len(a)} elements ({rows:,} table rows, {charts} charts): {'equal' if not differences else f'{differences} differ'}")
    return 1 if differences else 0


# A tile's sparkline drawn as static HTML (app/views/sparkline.py): its values, exact, in `data-values`.
SPARKLINE = re.compile(r'data-testid="tileSparkline" data-values="([^"]*)"')
# A chart drawn as static HTML (app/views/trend_html.py, bars_html.py, stacked_html.py): its Vega-Lite spec, whole,
# packed in `data-spec` (app/views/charts.py `packed_spec`).
HTML_CHART = re.compile(r'data-testid="(?:trendChart|barChart|stackedChart)" data-spec="([^"]*)"')
# Elements whose body is Markdown a reader reads as paragraphs: one caption holding several paragraphs reads as
# the captions (and badges) it replaces.
TEXT_KINDS = ("markdown", "caption", "badge")


def content(elements: list[dict]) -> list[str]:
    """What a reader reads on a page, whatever elements carry it: every text element's Markdown paragraph by
    paragraph (a badge is a paragraph), every other element whole (a download by what it holds besides its
    words: a deferred one names no file until clicked, so downloads count), as a sorted list: an element that moved, or texts merged into one element, read the same."""
    atoms = []
    for e in elements:
        if e["type"] in TEXT_KINDS:
            atoms += [json.dumps(["text", part.strip()]) for part in e.get("body", "").split("\n\n") if part.strip()]
        elif e["type"] == "download_button":
            # a deferred download's file is made on click: the element holds no file name, so downloads are
            # compared by what else they hold (their count), not by their words
            atoms.append(json.dumps(["download", {k: v for k, v in e.items() if k not in ("label", "style", "icon")}],
                                    sort_keys=True))
        elif e["type"] == "table" and "arrow_data" in e:  # a static table: its cells
            atoms.append(json.dumps(["table", _arrow_rows(base64.b64decode(e["arrow_data"]["data"]))], sort_keys=True))
        elif e["type"] == "metric":
            # a sparkline reads the same whether the metric draws it or static HTML beside it does (draw12)
            if e.get("chart_data"):
                atoms.append(json.dumps(["sparkline", [_cell(v) for v in e["chart_data"]]]))
            atoms.append(json.dumps({k: v for k, v in e.items() if k not in ("chart_data", "chart_type")}, sort_keys=True,
                                    default=str))
        elif e["type"] == "html" and SPARKLINE.search(e.get("body", "")):
            values = json.loads(html.unescape(SPARKLINE.search(e["body"]).group(1)))
            atoms.append(json.dumps(["sparkline", [_cell(float("nan") if v is None else v) for v in values]]))
        elif e["type"] == "html" and HTML_CHART.search(e.get("body", "")):
            # a chart reads the same whether Vega draws its spec or static HTML does (chart14)
            spec = json.loads(zlib.decompress(base64.b64decode(HTML_CHART.search(e["body"]).group(1))))
            atoms.append(json.dumps({"type": "chart", **json.loads(json.dumps(chart_as_drawn(spec), default=str))},
                                    sort_keys=True, default=str))
        else:
            atoms.append(json.dumps(e, sort_keys=True, default=str))
    return sorted(atoms)


def compare_content(before: str, after: str) -> int:
    """`compare --content`: the two pages hold the same texts, numbers, tables, charts and downloads, each
    element's kind and place aside; prints what one holds that the other does not, and the kinds counted."""
    a, b = ([{k: v for k, v in e.items() if k not in VOLATILE} for e in json.loads(Path(path).read_text())["elements"]]
            for path in (before, after))
    left, right = content(a), content(b)
    only_a = sorted((collections.Counter(left) - collections.Counter(right)).elements())
    only_b = sorted((collections.Counter(right) - collections.Counter(left)).elements())
    for side, atoms in (("only before", only_a), ("only after", only_b)):
        for atom in atoms[:10]:
            print(f"{side}: {atom[:400]}")
    kinds = [dict(collections.Counter(e["type"] for e in elements)) for elements in (a, b)]
    rows = sum(len(e.get("rows", [])) for e in a if e["type"] == "dataframe")
    charts = sum(1 for e in a if e["type"] == "chart")
    print(f"{len(a)} elements {kinds[0]} against {len(b)} {kinds[1]}; {len(left)} parts read ({rows:,} table rows, "
          f"{charts} charts): {'the same' if not (only_a or only_b) else f'{len(only_a)} / {len(only_b)} differ'}")
    return 1 if only_a or only_b else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("url")
    d.add_argument("--page", required=True)
    d.add_argument("--query", default="")
    d.add_argument("--out", required=True)
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--content", action="store_true", help="compare what a reader reads (texts paragraph by paragraph, "
                   "tables, charts, downloads by count), whatever elements carry it and wherever they sit")
    args = parser.parse_args(argv)
    if args.command == "dump":
        dump(args.url, args.page, args.query, args.out)
        return 0
    return compare_content(args.before, args.after) if args.content else compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
