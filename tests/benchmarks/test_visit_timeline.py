"""A first visit's timeline (benchmarks/visit_timeline.py) on hand-made traces, frames, samples and profiles: every
figure worked out by hand."""
from __future__ import annotations

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from benchmarks.visit_timeline import (
    RENDERED_MARK, busy_between, busy_bins, forward_messages, js_between, main_tasks, milestones, server_bins,
)

META = [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1, "args": {"name": "CrRendererMain"}},
        {"ph": "M", "name": "thread_name", "pid": 2, "tid": 1, "args": {"name": "CrRendererMain"}}]
EVENTS = META + [
    # the page's renderer (pid 1): a task of 150 ms wall and 75 ms thread CPU from 1.000 s, a call nested inside it,
    # and a task of 20 ms (20 ms CPU) from 1.280 s
    {"ph": "X", "pid": 1, "tid": 1, "name": "RunTask", "ts": 1_000_000, "dur": 150_000, "tdur": 75_000},
    {"ph": "X", "pid": 1, "tid": 1, "name": "FunctionCall", "ts": 1_010_000, "dur": 100_000, "tdur": 60_000},
    {"ph": "X", "pid": 1, "tid": 1, "name": "RunTask", "ts": 1_280_000, "dur": 20_000, "tdur": 20_000},
    # another renderer (an extension page, a blank tab) with less work: not the page's
    {"ph": "X", "pid": 2, "tid": 1, "name": "RunTask", "ts": 1_000_000, "dur": 10_000, "tdur": 10_000},
]


def test_main_tasks_are_the_busiest_renderers_top_level_tasks():
    assert main_tasks(EVENTS) == [(1_000_000, 150_000, 75_000), (1_280_000, 20_000, 20_000)]


def test_busy_bins_split_a_task_over_the_bins_it_spans():
    bins = busy_bins(EVENTS, 1_000_000, 1_300_000, 100)
    # the 150 ms task: 100 ms in the first bin and 50 in the second, its 75 ms of CPU in the same proportion (50 / 25);
    # the 20 ms task from 280 ms: in the third bin; the bin from 300 ms holds nothing
    assert [(b["t_ms"], b["busy_ms"], b["cpu_ms"]) for b in bins] == [(0, 100.0, 50.0), (100, 50.0, 25.0),
                                                                     (200, 20.0, 20.0), (300, 0.0, 0.0)]


def test_busy_between_counts_the_part_of_each_task_inside():
    tasks = main_tasks(EVENTS)
    # from 1.100 s to 1.290 s: the last 50 ms of the long task (25 ms CPU) and 10 ms of the short one (10 ms CPU)
    assert busy_between(tasks, 1_100_000, 1_290_000) == (60.0, 35.0)


def test_server_bins_put_each_steps_cpu_in_the_bin_of_its_end():
    samples = [(10.00, 1.00), (10.05, 1.02), (10.15, 1.10), (10.16, 1.10)]
    # 20 ms of CPU by 10.05 s (bin 0), 80 ms more by 10.15 s (bin 1), none after
    assert server_bins(samples, 10_000_000, 10_200_000, 100) == [20, 80, 0]


def _frame(kind: str) -> bytes:
    msg = ForwardMsg()
    if kind == "new_session":
        msg.new_session.main_script_path = "app/streamlit_app.py"
    elif kind == "script_finished":
        msg.script_finished = ForwardMsg.ScriptFinishedStatus.FINISHED_SUCCESSFULLY
    else:
        msg.delta.new_element.markdown.body = kind
    return msg.SerializeToString()


def test_milestones_from_the_frames_and_the_rendered_mark():
    # (times that binary floats hold exactly, so the microseconds compare equal)
    frames = [(2.0, _frame("new_session")), (2.0625, _frame("the title")), (2.375, _frame("a caption")),
              (2.4375, _frame("script_finished")), (2.5, b"\x00not a message")]
    messages = forward_messages(frames)
    assert [m["kind"] for m in messages] == ["new_session", "delta:markdown", "delta:markdown", "script_finished",
                                            "undecoded"]
    events = [{"name": "navigationStart", "ts": 1_500_000, "ph": "R"},
              {"name": RENDERED_MARK, "ts": 3_100_000, "ph": "R"}, {"name": RENDERED_MARK, "ts": 3_500_000, "ph": "R"}]
    marks = milestones(events, messages, {"created": 1.875, "open": 1.9375})
    assert marks == {"navigation": 1_500_000, "websocket created": 1_875_000, "websocket open": 1_937_500,
                     "script started (new_session)": 2_000_000, "first element": 2_062_500, "last element": 2_375_000,
                     "script finished": 2_437_500, "drawn (RENDERED)": 3_100_000}  # the first time it held


def test_js_between_takes_the_samples_inside_by_bundle():
    profile = {"startTime": 1_000_000, "nodes": [
        {"id": 1, "callFrame": {"url": "http://x/static/js/embed.CX5AQgxi.js", "functionName": "parse"}},
        {"id": 2, "callFrame": {"url": "http://x/static/js/react-dom.Dzbslgj4.js", "functionName": "render"}},
    ], "samples": [2, 1, 1, 2], "timeDeltas": [10_000, 20_000, 30_000, 40_000]}
    # samples at 1.010 (react, lasting 20 ms), 1.030 (vega, 30 ms), 1.060 (vega, 40 ms), 1.100 s (react, the last: 0)
    assert js_between(profile, 1_000_000, 1_050_000) == {"vega (embed bundle)": 30.0, "react-dom.Dzbslgj4.js": 20.0}
    assert js_between(profile, 1_050_000, 1_200_000) == {"vega (embed bundle)": 40.0}
