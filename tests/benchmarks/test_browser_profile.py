"""The browser profile's arithmetic (benchmarks/browser_profile.py) on hand-made traces, profiles and frames, and
the page dump's comparison (benchmarks/page_elements.py): a chart is compared by what it draws."""
from __future__ import annotations

import io
import json

import pyarrow as pa
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks.browser_profile import js_by_script, main_thread_split, sent_elements
from benchmarks.page_elements import chart_as_drawn, compare


def test_main_thread_split_counts_each_events_own_thread_time():
    meta = [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "CrRendererMain"}},
            {"ph": "M", "name": "process_name", "pid": 1, "tid": 1, "args": {"name": "Renderer"}},
            {"ph": "M", "name": "thread_name", "pid": 1, "tid": 2, "args": {"name": "Compositor"}}]
    events = meta + [
        # a task of 100 ms wall, 90 ms CPU; inside it a script call of 40 ms CPU, inside that a layout of 10 ms
        {"ph": "X", "pid": 1, "tid": 1, "name": "RunTask", "ts": 0, "dur": 100_000, "tdur": 90_000},
        {"ph": "X", "pid": 1, "tid": 1, "name": "FunctionCall", "ts": 10_000, "dur": 50_000, "tdur": 40_000},
        {"ph": "X", "pid": 1, "tid": 1, "name": "Layout", "ts": 20_000, "dur": 10_000, "tdur": 10_000},
        # a second task after it: 20 ms of style
        {"ph": "X", "pid": 1, "tid": 1, "name": "UpdateLayoutTree", "ts": 200_000, "dur": 20_000, "tdur": 20_000},
        # the compositor thread: two tasks of 8 and 2 ms CPU
        {"ph": "X", "pid": 1, "tid": 2, "name": "RunTask", "ts": 0, "dur": 9_000, "tdur": 8_000},
        {"ph": "X", "pid": 1, "tid": 2, "name": "RunTask", "ts": 50_000, "dur": 2_000, "tdur": 2_000},
    ]
    split = main_thread_split(events)
    assert split["busy_s"] == 0.12  # 100 + 20 ms of top-level tasks
    assert split["busy_cpu_s"] == 0.11  # 90 + 20
    # RunTask's own time: 90 - 40 = 50 ms; the call's: 40 - 10 = 30 ms; layout 10 ms; style 20 ms
    assert split["groups_s"] == {"other": 0.05, "script: run": 0.03, "style": 0.02, "layout": 0.01}
    assert split["other_threads_cpu_s"] == {"Compositor": 0.01}


def test_js_by_script_gives_each_sample_the_time_to_the_next():
    profile = {"nodes": [
        {"id": 1, "callFrame": {"url": "http://x/static/js/embed.CX5AQgxi.js", "functionName": "parse"}},
        {"id": 2, "callFrame": {"url": "http://x/static/js/DataFrame.-f9-1zS0.js", "functionName": "draw"}},
        {"id": 3, "callFrame": {"url": "", "functionName": "(garbage collector)"}},
    ], "samples": [1, 2, 2, 3], "timeDeltas": [0, 100_000, 300_000, 50_000]}
    split = js_by_script(profile)
    # sample 1 lasts 100 ms, the two of node 2 300 + 50 ms, the last one none
    assert split["by_kind_s"] == {"data grid (glide)": 0.35, "vega (embed bundle)": 0.1}
    assert split["top_functions_s"][0] == ["DataFrame.-f9-1zS0.js:draw@0:0", 0.35]


def _arrow(rows: int) -> bytes:
    sink = io.BytesIO()
    table = pa.table({"id": list(range(rows))})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def test_sent_elements_decodes_tables_and_charts():
    table, chart, text = ForwardMsg(), ForwardMsg(), ForwardMsg()
    table.delta.new_element.dataframe.arrow_data.data = _arrow(3)
    chart.delta.new_element.vega_lite_chart.spec = json.dumps(
        {"title": "t", "layer": [{"data": {"values": [{"a": 1}, {"a": 2}]}}, {"data": {"values": [{"a": 3}, {"a": 4}]}}]})
    text.delta.new_element.markdown.body = "hello"
    frames = [m.SerializeToString() for m in (table, chart, text)]
    sent = sent_elements(frames)
    kinds = [(e["kind"], e.get("rows"), e.get("layers"), e.get("data_values")) for e in sent["elements"]]
    assert kinds == [("dataframe", 3, None, None), ("vega_lite_chart", None, 2, 4), ("markdown", None, None, None)]
    assert sent["total_bytes"] == sum(len(f) for f in frames)


def test_a_chart_is_compared_by_what_it_draws(tmp_path):
    rows = [{"x": 1, "y": 2.5}]
    inline = {"title": "t", "layer": [{"name": "lines", "mark": "line", "data": {"values": rows}},
                                      {"name": "points", "mark": "point", "data": {"values": rows}}]}
    shared = {"title": "t", "data": {"values": rows}, "layer": [{"name": "lines", "mark": "line"},
                                                                {"name": "points", "mark": "point"}]}
    assert chart_as_drawn(inline) == chart_as_drawn(shared)
    moved = {**shared, "data": {"values": [{"x": 1, "y": 2.6}]}}
    assert chart_as_drawn(moved) != chart_as_drawn(shared)

    def write(name: str, spec: dict) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"elements": [{"type": "chart", **chart_as_drawn(spec)}]}))
        return str(path)

    assert compare(write("a.json", inline), write("b.json", shared)) == 0
    assert compare(write("c.json", inline), write("d.json", moved)) == 1


def test_a_downloads_file_id_is_not_a_difference_but_its_label_is(tmp_path):
    def write(name: str, **button) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"elements": [{"type": "download_button", "label": "Download CSV", **button}]}))
        return str(path)

    assert compare(write("a.json", deferred_file_id="3045d9"), write("b.json", deferred_file_id="a024d8")) == 0
    assert compare(write("c.json", deferred_file_id="3045d9"), write("d.json", label="Download")) == 1


def test_content_compares_what_a_reader_reads_whatever_elements_carry_it(tmp_path):
    from benchmarks.page_elements import compare_content

    def write(name: str, *elements: dict) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"elements": list(elements)}))
        return str(path)

    badge = {"type": "markdown", "body": ":red-badge[:material/warning: worse than baseline]"}
    line = {"type": "caption", "body": "Baseline 16.1% · n = 23,126"}
    table = {"type": "dataframe", "columns": ["id"], "rows": [[1], [2]]}
    button = {"type": "download_button", "label": "Download CSV", "style": "tertiary", "url": "f.csv"}
    before = write("before.json", badge, line, table, button)
    # the badge and the line as one caption's two paragraphs, the table after the button, the button's words changed
    merged = {"type": "caption", "body": ":red-badge[:material/warning: worse than baseline]\n\nBaseline 16.1% · n = 23,126"}
    after = write("after.json", merged, {**button, "label": "Trend (CSV)"}, table)
    assert compare_content(before, after) == 0
    assert compare(before, after) == 1  # element by element they differ
    # a changed number, a row less, another file: each a difference
    assert compare_content(before, write("n.json", {**merged, "body": merged["body"].replace("23,126", "23,127")},
                                         button, table)) == 1
    assert compare_content(before, write("r.json", merged, button, {**table, "rows": [[1]]})) == 1
    assert compare_content(before, write("f.json", merged, {**button, "url": "g.csv"}, table)) == 1
    # a paragraph lost from a merged caption
    assert compare_content(before, write("l.json", {**merged, "body": "Baseline 16.1% · n = 23,126"}, button, table)) == 1


def test_content_reads_a_sparkline_the_same_from_the_metric_or_from_static_html(tmp_path):
    from app.views.sparkline import sparkline_html
    from benchmarks.page_elements import compare_content

    def write(name: str, *elements: dict) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"elements": list(elements)}))
        return str(path)

    metric = {"type": "metric", "label": "Rollback share", "body": "3.7%", "delta": "+0.9 pp"}
    # main's metric drew the sparkline itself (a missing value arrives as the dump's "NaN")
    before = write("before.json", {**metric, "chart_data": [0.037, "NaN", 0.029], "chart_type": "LINE"})
    line = {"type": "html", "body": sparkline_html([0.037, None, 0.029], "red", ["3.7%", "—", "2.9%"])}
    assert compare_content(before, write("after.json", metric, line)) == 0
    # a value changed in the sparkline, or the sparkline gone: each a difference
    moved = {"type": "html", "body": sparkline_html([0.037, None, 0.030], "red", ["3.7%", "—", "3.0%"])}
    assert compare_content(before, write("moved.json", metric, moved)) == 1
    assert compare_content(before, write("gone.json", metric)) == 1


def test_content_reads_a_trend_chart_the_same_from_vega_or_static_html(tmp_path):
    import datetime as dt

    import polars as pl

    from app.views.charts import trend_figure
    from app.views.trend_html import trend_html
    from benchmarks.page_elements import compare_content

    def write(name: str, *elements: dict) -> str:
        path = tmp_path / name
        path.write_text(json.dumps({"elements": list(elements)}, default=str))
        return str(path)

    def spec(second: float) -> dict:
        rows = pl.DataFrame({"period": [dt.date(2026, 3, 2), dt.date(2026, 3, 9)], "segment": ["all", "all"],
                             "value": [0.1, second], "ci_low": [0.05, 0.1], "ci_high": [0.2, 0.3], "baseline": [0.1, 0.1]})
        return trend_figure(rows, "share", title="Rollback share")

    # main's Vega chart as the dump writes it (its rows' numbers as their repr), against the same spec as static HTML
    before = write("before.json", {"type": "chart", **chart_as_drawn(spec(0.2))})
    assert compare_content(before, write("after.json", {"type": "html", "body": trend_html(spec(0.2))})) == 0
    # a value moved, or the chart gone: each a difference
    assert compare_content(before, write("moved.json", {"type": "html", "body": trend_html(spec(0.25))})) == 1
    assert compare_content(before, write("gone.json")) == 1


def test_a_vega_charts_top_level_rows_are_read_from_streamlits_arrow():
    """Streamlit sends a spec's top-level `data` as Arrow beside the spec (an interval bars chart's rows): the dump
    reads them into the chart, as the rows a static HTML chart carries in its spec are read."""
    import types

    from streamlit.proto.VegaLiteChart_pb2 import VegaLiteChart

    from benchmarks.page_elements import _element

    proto = VegaLiteChart(spec=json.dumps({"title": "t", "layer": [{"name": "bars", "mark": "bar"}]}))
    sink = io.BytesIO()
    table = pa.table({"label": ["ai", "non_ai"], "value": [0.3, None]})
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    proto.data.data = sink.getvalue()
    chart = _element(types.SimpleNamespace(type="arrow_vega_lite_chart", proto=proto))
    assert chart["layers"][0]["values"] == [{"label": "ai", "value": "0.3"}, {"label": "non_ai", "value": None}]
    assert chart == {"type": "chart", **chart_as_drawn({"title": "t", "data": {"values": [
        {"label": "ai", "value": 0.3}, {"label": "non_ai", "value": None}]}, "layer": [{"name": "bars", "mark": "bar"}]})}
