"""Where the browser's CPU goes in one first visit of a page: Chrome's own profiler over the visit that
benchmarks/pages.py times, split by what the renderer did and by what each element sent.

    python -m benchmarks.browser_profile URL --page scorecard [--query team=payments] [--browser returning]
        [--port 8631] [--screenshot FILE.png] [--out FILE.json] [--entry serve|script]

One round as benchmarks.pages runs it (a fresh `streamlit run` per visit; `--browser returning`: a browser
with a profile on disk that opened the page against a first server, which stopped), with, over the timed
first visit only:

- the CPU seconds of each kind of Chromium process (browser, renderer, GPU, utility: /proc, by `--type=`);
- the renderer's main thread from a Chrome trace (CDP `Tracing`): its busy time split into script (run,
  compile, parse), style, layout, paint and compositing, garbage collection and the rest — the self time
  of each trace event, so nested events are not counted twice;
- the JavaScript by script file (CDP `Profiler`, sampled every 200 µs): self time per file of Streamlit's
  front end (vega's embed bundle, the data grid, React and the app core), and its top functions;
- what the server sent, element by element: every websocket frame decoded as Streamlit's ForwardMsg, each
  new element's kind, key and protobuf bytes (a chart's spec and data, a table's Arrow bytes and its rows).

`--screenshot` saves the whole page once it is drawn (a tall viewport, so every element is drawn).
"""
from __future__ import annotations

import argparse
import base64
import collections
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.pages import (
    CHROMIUM_ARGS, CONTENT, HEADINGS, TABLE, _tree, build_cube, cpu_seconds, free_port, item_ids, log, router_pages,
    server, visit, write_config,
)

TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "v8.execute", "blink",
                    "toplevel", "disabled-by-default-v8.gc", "cc", "viz", "loading"]
# Trace events of the renderer's main thread, by what they are (their self time is added to the group).
GROUPS = {
    "script: run": ("FunctionCall", "EvaluateScript", "v8.run", "v8.callFunction", "TimerFire", "FireAnimationFrame",
                    "RunMicrotasks", "V8.Execute", "EventDispatch", "v8.evaluateModule", "XHRLoad",
                    "ResourceReceivedData", "ResourceFinish", "ResourceReceiveResponse"),
    "script: compile": ("v8.compile", "v8.compileModule", "V8.CompileCode", "v8.produceCache", "v8.produceModuleCache",
                        "V8.CompileLazy", "v8.deserializeOnBackground", "v8.compileEval", "CacheScript"),
    "script: parse": ("v8.parseOnBackground", "V8.ParseFunction", "v8.parse", "ParseHTML", "ParseAuthorStyleSheet"),
    "style": ("UpdateLayoutTree", "RecalculateStyles", "InvalidateLayout", "ScheduleStyleRecalculation"),
    "layout": ("Layout", "UpdateLayerTree", "IntersectionObserverController::computeIntersections"),
    "paint": ("Paint", "PrePaint", "Layerize", "PaintImage", "Decode Image", "Draw LazyPixelRef", "RasterTask",
              "Commit", "CompositeLayers", "UpdateLayer", "PaintSetup", "Rasterize"),
    "gc": ("MinorGC", "MajorGC", "V8.GCScavenger", "V8.GCFinalizeMC", "V8.GCIncrementalMarking", "BlinkGC.AtomicPhase",
           "V8.GCCompactor", "ThreadState::performIdleLazySweep", "V8.GC_MC_BACKGROUND_MARKING", "CppGC.AtomicMark",
           "GCEvent", "BlinkGC.LazySweepInIdle", "V8.GCIdleTaskMarking"),
}
GROUP_OF = {name: group for group, names in GROUPS.items() for name in names}
# Streamlit's front-end bundles by what they hold (file name prefixes of static/js).
SCRIPT_KINDS = {"embed.": "vega (embed bundle)", "vega-interpreter": "vega expression interpreter",
                "ArrowVegaLiteChart": "vega chart element", "DataFrame": "data grid (glide)",
                "index.": "streamlit core + react", "Metric": "metric element", "protobuf": "protobuf",
                "arrow": "arrow", "StreamlitMarkdown": "markdown", "Markdown": "markdown"}


def process_cpu() -> dict[str, float]:
    """CPU seconds so far of this harness's Chromium processes, by kind (`--type=` of their command line)."""
    kinds: dict[str, float] = collections.defaultdict(float)
    for pid in _tree(os.getpid())[1:]:
        with contextlib.suppress(OSError):
            if not Path(f"/proc/{pid}/comm").read_text().startswith(("chrom", "headless")):
                continue
            # Chromium rewrites its children's command line as one string (setproctitle)
            args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").split()
            kind = next((a.decode().split("=", 1)[1] for a in args if a.startswith(b"--type=")), "browser")
            if kind == "utility":
                kind += ":" + next((a.decode().split("=", 1)[1] for a in args if a.startswith(b"--utility-sub-type=")), "?")
            kinds[kind] += cpu_seconds(pid)
    return dict(kinds)


def main_thread_split(events: list[dict]) -> dict:
    """The renderer main thread's busy time (top-level tasks, wall and thread CPU) and the self thread time
    (CPU) of each event, grouped (GROUPS); the renderer's other threads' CPU (their top-level tasks' thread time)."""
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    processes = {e["pid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "process_name"}
    mains = [k for k, name in threads.items() if name == "CrRendererMain"]
    by_thread: dict = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            by_thread[(e["pid"], e["tid"])].append(e)
    # the page's renderer: the main thread with the most work
    main = max(mains, key=lambda k: sum(e["dur"] for e in by_thread[k]), default=None)
    if main is None:
        return {}
    spans = sorted(by_thread[main], key=lambda e: (e["ts"], -e["dur"]))
    self_us: dict[str, float] = collections.defaultdict(float)
    stack: list[list] = []  # [end, name, child time]
    busy_us = busy_cpu_us = 0.0

    def close(until: float) -> None:
        while stack and stack[-1][0] <= until:
            end, name, children, dur = stack.pop()
            self_us[name] += dur - children
            if stack:
                stack[-1][2] += dur

    for e in spans:
        close(e["ts"])
        if not stack:
            busy_us += e["dur"]
            busy_cpu_us += e.get("tdur", 0)
        stack.append([e["ts"] + e["dur"], e["name"], 0.0, e.get("tdur", e["dur"])])
    close(float("inf"))
    groups: dict[str, float] = collections.defaultdict(float)
    for name, us in self_us.items():
        groups[GROUP_OF.get(name, "other")] += us
    top_other = sorted(((us, n) for n, us in self_us.items() if n not in GROUP_OF), reverse=True)[:12]
    others = {}
    for key, spans_ in by_thread.items():
        if key[0] != main[0] or key == main:
            continue
        cpu = sum(e.get("tdur", 0) for e in _top_level(spans_))
        if cpu > 5_000:
            others[threads.get(key, str(key[1]))] = others.get(threads.get(key, str(key[1])), 0) + cpu / 1e6
    return {"renderer": processes.get(main[0], str(main[0])), "busy_s": busy_us / 1e6, "busy_cpu_s": busy_cpu_us / 1e6,
            "groups_s": {g: round(us / 1e6, 3) for g, us in sorted(groups.items(), key=lambda kv: -kv[1])},
            "top_other_s": {n: round(us / 1e6, 3) for us, n in top_other},
            "other_threads_cpu_s": {n: round(s, 3) for n, s in sorted(others.items(), key=lambda kv: -kv[1])}}


def _top_level(spans: list[dict]) -> list[dict]:
    out, end = [], -1.0
    for e in sorted(spans, key=lambda e: (e["ts"], -e["dur"])):
        if e["ts"] >= end:
            out.append(e)
            end = e["ts"] + e["dur"]
    return out


def js_by_script(profile: dict) -> dict:
    """Self time of the sampled JavaScript profile by script file (and the special nodes: program, GC, idle)
    and its top functions."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    deltas = profile.get("timeDeltas", [])
    counts: dict[int, float] = collections.defaultdict(float)
    for node_id, delta in zip(profile.get("samples", []), deltas[1:] + [0]):
        counts[node_id] += delta
    by_file: dict[str, float] = collections.defaultdict(float)
    by_function: dict[tuple, float] = collections.defaultdict(float)
    for node_id, us in counts.items():
        frame = nodes[node_id]["callFrame"]
        url = frame.get("url", "")
        name = url.rsplit("/", 1)[-1].split("?")[0] if url else frame["functionName"] or "(native)"
        by_file[name] += us
        by_function[(name, frame["functionName"] or "(anonymous)", frame.get("lineNumber", 0), frame.get("columnNumber", 0))] += us
    kinds: dict[str, float] = collections.defaultdict(float)
    for name, us in by_file.items():
        kinds[next((k for prefix, k in SCRIPT_KINDS.items() if name.startswith(prefix)), name)] += us
    return {"by_kind_s": {k: round(us / 1e6, 3) for k, us in sorted(kinds.items(), key=lambda kv: -kv[1]) if us > 5_000},
            "by_file_s": {k: round(us / 1e6, 3) for k, us in sorted(by_file.items(), key=lambda kv: -kv[1])[:25]},
            "top_functions_s": [[f"{f[0]}:{f[1]}@{f[2]}:{f[3]}", round(us / 1e6, 3)]
                                for f, us in sorted(by_function.items(), key=lambda kv: -kv[1])[:30]]}


def sent_elements(frames: list[bytes]) -> dict:
    """Every websocket frame the server sent, decoded as a ForwardMsg: the new elements' kind, key, bytes, and
    for tables and charts their rows."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    elements, other = [], collections.Counter()
    for raw in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            other["undecoded"] += len(raw)
            continue
        kind = msg.WhichOneof("type")
        if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            which = element.WhichOneof("type")
            inner = getattr(element, which)
            row = {"kind": which, "bytes": len(raw), "path": list(msg.metadata.delta_path)}
            if which == "dataframe":
                row["arrow_bytes"] = len(inner.arrow_data.data)
                row["rows"] = _arrow_rows(inner.arrow_data.data) if inner.arrow_data.data else None
                row["lazy"] = inner.HasField("lazy_data")
            elif which == "vega_lite_chart":
                spec = json.loads(inner.spec)
                row["spec_bytes"] = len(inner.spec)
                row["title"] = spec.get("title")
                row["layers"] = len(spec.get("layer", []))
                row["data_values"] = sum(len((layer.get("data") or {}).get("values", []))
                                         for layer in [spec, *spec.get("layer", [])])
            elif which == "metric":
                row["label"] = inner.label
                row["chart_points"] = len(inner.chart_data)
            elif which in ("markdown", "heading"):
                row["text"] = inner.body[:60]
            elements.append(row)
        else:
            other[kind or "?"] += len(raw)
    totals = collections.Counter()
    for row in elements:
        totals[row["kind"]] += row["bytes"]
    return {"elements": elements, "bytes_by_kind": dict(totals.most_common()), "other_bytes": dict(other),
            "total_bytes": sum(len(f) for f in frames)}


def _arrow_rows(data: bytes) -> int | None:
    import pyarrow as pa

    with contextlib.suppress(Exception):
        return pa.ipc.open_stream(data).read_all().num_rows
    return None


def trace_events(cdp, page, done: dict, trace_path: Path) -> list[dict]:
    """After `Tracing.end`: the trace's events, read from the stream Chrome names in `done` (the
    `Tracing.tracingComplete` event, waited for up to 60 s), its raw JSON also written to `trace_path`."""
    deadline = time.monotonic() + 60
    while "stream" not in done and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    chunks = []
    while True:
        part = cdp.send("IO.read", {"handle": done["stream"], "size": 1 << 20})
        chunks.append(base64.b64decode(part["data"]) if part.get("base64Encoded") else part["data"].encode())
        if part.get("eof"):
            break
    cdp.send("IO.close", {"handle": done["stream"]})
    raw = b"".join(chunks)
    trace_path.write_bytes(raw)
    trace = json.loads(raw)
    return trace["traceEvents"] if isinstance(trace, dict) else trace


def profile_visit(page, address: str, heading: str, content: str | None, trace_path: Path) -> dict:
    cdp = page.context.new_cdp_session(page)
    frames: list[bytes] = []

    def frame(event: dict) -> None:
        payload = event["response"]["payloadData"]
        frames.append(base64.b64decode(payload) if event["response"]["opcode"] == 2 else payload.encode())

    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.send("Network.enable")
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    done: dict = {}
    cdp.on("Tracing.tracingComplete", lambda event: done.update(event))
    cdp.send("Tracing.start", {"traceConfig": {"includedCategories": TRACE_CATEGORIES, "recordMode": "recordAsMuchAsPossible"},
                               "transferMode": "ReturnAsStream"})
    cdp.send("Profiler.start")
    before = process_cpu()
    first = visit(page, address, heading, content)
    after = process_cpu()
    js = cdp.send("Profiler.stop")["profile"]
    cdp.send("Tracing.end")
    events = trace_events(cdp, page, done, trace_path)
    cpu = {k: round(after.get(k, 0) - before.get(k, 0), 2) for k in after}
    return {"first_s": round(first, 3), "browser_cpu_s": round(sum(cpu.values()), 2), "cpu_by_process_s": cpu,
            "main_thread": main_thread_split(events), "javascript": js_by_script(js), "sent": sent_elements(frames)}


def page_to_visit(url: str, page_path: str, query: str) -> tuple[dict, str, str | None, str]:
    """The router's page `page_path` (benchmarks.pages.router_pages), the URL's query (`query`, else an item page's
    first item id from the warehouse at `url`), and what the harness waits for on it: (page, "?query" or "",
    content selector, heading)."""
    target = next(p for p in router_pages() if p["path"] == page_path)
    ids = item_ids(url) if page_path in ("pr", "deployment", "incident") and not query else {}
    suffix = f"?{query}" if query else (f"?id={ids[page_path]}" if page_path in ids else "")
    return target, suffix, CONTENT.get(page_path, TABLE), HEADINGS.get(page_path, target["title"])


@contextlib.contextmanager
def visit_setting(playwright, url: str, address: str, heading: str, content: str | None, *, returning: bool,
                  entry: str, port: int, height: int = 1000):
    """What a first visit is timed in, as `benchmarks.pages` makes it: a folder with the server's config and the
    cube built, and a browser context. `returning`: a profile on disk that opened `address` (the page's path and
    query) once against a first server on the same `port`, so its front end is cached; else a new browser. Yields
    (folder, config path, context); closes the context."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cache_dir = str(folder / "cube")
        config_path = write_config(folder, url, cache_dir)
        build_cube(url, cache_dir)
        viewport = {"width": 1500, "height": height}
        if returning:
            context = playwright.chromium.launch_persistent_context(folder / "profile", executable_path=chromium,
                                                                    args=CHROMIUM_ARGS, viewport=viewport)
            with server(config_path, folder / "before.log", entry, port) as (base, _, sampler):
                before = context.new_page()
                visit(before, f"{base}/{address}", heading, content)
                before.close()
                sampler.stop()
        else:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport=viewport)
        try:
            yield folder, config_path, context
        finally:
            context.close()


def run(url: str, page_path: str, query: str, returning: bool, port: int, entry: str, screenshot: str,
        trace_out: str, height: int) -> dict:
    target, suffix, content, heading = page_to_visit(url, page_path, query)
    address = f"{target['url']}{suffix}"
    port = port or free_port()  # a returning browser's two servers share it: its cached front end is the origin's
    with sync_playwright() as playwright, visit_setting(playwright, url, address, heading, content, returning=returning,
                                                        entry=entry, port=port, height=height) as (folder, config_path, context):
        with server(config_path, folder / "timed.log", entry, port) as (base, _, sampler):
            page = context.new_page()
            result = profile_visit(page, f"{base}/{address}", heading, content,
                                   Path(trace_out) if trace_out else folder / "trace.json")
            result["server_first_cpu_s"] = round(cpu_seconds(sampler.pid) - sampler.started_cpu_s, 2)
            if screenshot:
                page.wait_for_timeout(500)
                page.screenshot(path=screenshot, full_page=True)
            sampler.stop()
    result.update(page=page_path + suffix, browser="returning" if returning else "new", load=os.getloadavg()[0])
    return result


def report(result: dict) -> str:
    lines = [f"{result['page']} ({result['browser']} browser, load {result['load']:.1f}): first visit {result['first_s']:.2f} s, "
             f"server {result['server_first_cpu_s']:.2f} CPU-s, browser {result['browser_cpu_s']:.2f} CPU-s "
             f"{result['cpu_by_process_s']}"]
    main = result["main_thread"]
    if main:
        lines.append(f"renderer main thread: busy {main['busy_s']:.2f} s (thread CPU {main['busy_cpu_s']:.2f} s): "
                     + ", ".join(f"{g} {s:.2f}" for g, s in main["groups_s"].items()))
        lines.append("  other events: " + ", ".join(f"{n} {s:.2f}" for n, s in main["top_other_s"].items()))
        lines.append("  renderer's other threads (CPU-s): " + ", ".join(f"{n} {s:.2f}" for n, s in main["other_threads_cpu_s"].items()))
    lines.append("javascript by kind (self s): " + ", ".join(f"{k} {s:.2f}" for k, s in result["javascript"]["by_kind_s"].items()))
    lines.append("top functions: " + "; ".join(f"{f} {s:.3f}" for f, s in result["javascript"]["top_functions_s"][:12]))
    sent = result["sent"]
    lines.append(f"sent {sent['total_bytes'] / 1e3:,.0f} kB; by element kind (kB): "
                 + ", ".join(f"{k} {b / 1e3:,.1f}" for k, b in sent["bytes_by_kind"].items()))
    for row in sent["elements"]:
        if row["kind"] in ("dataframe", "vega_lite_chart") or row["bytes"] > 20_000:
            extra = {k: v for k, v in row.items() if k not in ("kind", "bytes", "path")}
            lines.append(f"  {row['kind']:24s} {row['bytes'] / 1e3:9,.1f} kB  {extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the warehouse (sqlite:///… or postgresql://…)")
    parser.add_argument("--page", required=True, help="the page's path (scorecard, delivery, rollbacks, …)")
    parser.add_argument("--query", default="", help="the page's query, e.g. team=payments")
    parser.add_argument("--browser", choices=["new", "returning"], default="returning")
    parser.add_argument("--port", type=int, default=0, help="the servers' port (default: a free one)")
    parser.add_argument("--entry", choices=["serve", "script"], default="serve")
    parser.add_argument("--screenshot", default="", help="save the drawn page here (PNG, the whole page)")
    parser.add_argument("--height", type=int, default=1000, help="the viewport's height")
    parser.add_argument("--trace", default="", help="keep the Chrome trace here (JSON, opens in chrome://tracing)")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    result = run(args.url, args.page, args.query, args.browser == "returning", args.port, args.entry, args.screenshot,
                 args.trace, args.height)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    log(report(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
