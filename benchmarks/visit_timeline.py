"""A timeline of one first visit: when the websocket opens, when the server's script starts and ends, when each
element arrives, when the renderer's main thread is busy, and when the page counts as drawn.

    python -m benchmarks.visit_timeline URL --page scorecard [--query team=payments] [--browser returning]
        [--bin-ms 100] [--out FILE.json]

One round as benchmarks.pages runs it (a fresh `streamlit run`; `--browser returning` by default: a browser with a
profile on disk that opened the page against a first server, which stopped). Over the timed first visit a Chrome
trace (CDP `Tracing`) and the websocket frames (CDP `Network`) are recorded on one clock (Chrome's monotonic
clock: the trace's microseconds and the frames' seconds), every time given in ms from the navigation's start:

- the websocket's creation and handshake;
- each ForwardMsg: `new_session` (the server began the script run), every element delta (its kind and bytes),
  `script_finished` (the run ended; the server sends it as soon as the script returns);
- the page drawn: the harness's RENDERED check (benchmarks/pages.py), polled every 25 ms in the page as the
  harness does, leaves a `performance.mark` the first time it holds (and each time it holds again after failing);
- the renderer's main thread: its top-level tasks, summed into bins of `--bin-ms` (wall busy and thread CPU), and
  between the milestones above: how much of each stretch the main thread was busy.

Which part is the critical path: if the main thread is mostly idle until `script_finished` and the page is drawn
soon after it, the server's script is; if the last element arrives long before the page is drawn and the main
thread is busy in between, the renderer's main thread is.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from benchmarks.browser_profile import (
    SCRIPT_KINDS, TRACE_CATEGORIES, main_thread_split, page_to_visit, process_cpu, trace_events, visit_setting,
)
from benchmarks.pages import (
    RENDERED, SETTLE_MS, TIMEOUT_MS, cpu_seconds, free_port, server,
)

RENDERED_MARK = "scorecard-harness:rendered"
# The RENDERED check, leaving a mark when it first holds (and again whenever it holds after failing).
MARKED = f"""(arg) => {{
  const ok = ({RENDERED})(arg);
  if (ok && !window.__drawn) performance.mark('{RENDERED_MARK}');
  window.__drawn = ok;
  return ok;
}}"""


class ServerCpu(threading.Thread):
    """The server process's CPU seconds every `interval` s, stamped with `time.monotonic()`: Chrome's trace clock on
    Linux (both CLOCK_MONOTONIC; `summarise` checks the navigation's start against the harness's own stamp), so the
    server's busy stretches sit on the same timeline as the frames and the renderer's tasks."""

    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.pid, self.interval, self.samples = pid, interval, []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.monotonic(), cpu_seconds(self.pid)))
            self.done.wait(self.interval)

    def stop(self) -> list[tuple[float, float]]:
        self.done.set()
        self.join()
        return self.samples


def server_bins(samples: list[tuple[float, float]], start_us: float, end_us: float, bin_ms: float) -> list[float]:
    """The server's CPU ms per bin of `bin_ms` from `start_us` to `end_us` (trace microseconds), from cumulative
    samples `(monotonic seconds, CPU seconds)`: each step's CPU is put in the bin of its end."""
    width = bin_ms * 1000
    count = max(1, int((end_us - start_us) // width) + 1)
    bins = [0.0] * count
    for (_, a), (t, b) in zip(samples, samples[1:]):
        i = int((t * 1e6 - start_us) // width)
        if 0 <= i < count:
            bins[i] += (b - a) * 1000
    return [round(v) for v in bins]


def forward_messages(frames: list[tuple[float, bytes]]) -> list[dict]:
    """Each websocket frame (`(seconds, bytes)`) decoded as a ForwardMsg: its time, kind (`new_session`,
    `script_finished`, `delta:<element kind>`, …) and bytes, in arrival order."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    out = []
    for at, raw in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(raw)
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            out.append({"s": at, "kind": "undecoded", "bytes": len(raw)})
            continue
        kind = msg.WhichOneof("type") or "?"
        if kind == "delta":
            which = msg.delta.WhichOneof("type")
            if which == "new_element":
                which = msg.delta.new_element.WhichOneof("type")
            elif which == "add_block":
                which = "block"
            kind = f"delta:{which}"
        out.append({"s": at, "kind": kind, "bytes": len(raw)})
    return out


def busy_bins(events: list[dict], start_us: float, end_us: float, bin_ms: float) -> list[dict]:
    """The renderer main thread's top-level tasks (CrRendererMain of the busiest renderer) summed per bin of
    `bin_ms` from `start_us` to `end_us` (trace microseconds): wall busy and thread CPU in ms per bin (a task is
    split over the bins it spans; its thread CPU in proportion)."""
    tasks = main_tasks(events)
    width = bin_ms * 1000
    count = max(1, int((end_us - start_us) // width) + 1)
    bins = [{"t_ms": round(i * bin_ms), "busy_ms": 0.0, "cpu_ms": 0.0} for i in range(count)]
    for ts, dur, tdur in tasks:
        a, b = max(ts, start_us), min(ts + dur, end_us)
        if b <= a:
            continue
        for i in range(int((a - start_us) // width), min(count, int((b - start_us) // width) + 1)):
            lo, hi = start_us + i * width, start_us + (i + 1) * width
            part = max(0.0, min(b, hi) - max(a, lo))
            bins[i]["busy_ms"] += part / 1000
            bins[i]["cpu_ms"] += (tdur * part / dur if dur else 0) / 1000
    for row in bins:
        row["busy_ms"], row["cpu_ms"] = round(row["busy_ms"], 1), round(row["cpu_ms"], 1)
    return bins


def main_tasks(events: list[dict]) -> list[tuple[float, float, float]]:
    """(ts, dur, tdur) of the top-level complete events of the page's renderer main thread (the CrRendererMain
    with the most work), in time order; nested events are inside their parent's span and not repeated."""
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans: dict = {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if e.get("ph") == "X" and "dur" in e and threads.get(key) == "CrRendererMain":
            spans.setdefault(key, []).append(e)
    if not spans:
        return []
    busiest = max(spans.values(), key=lambda s: sum(e["dur"] for e in s))
    out, end = [], -1.0
    for e in sorted(busiest, key=lambda e: (e["ts"], -e["dur"])):
        if e["ts"] >= end:
            out.append((float(e["ts"]), float(e["dur"]), float(e.get("tdur", e["dur"]))))
            end = e["ts"] + e["dur"]
    return out


def js_between(profile: dict, a_us: float, b_us: float) -> dict[str, float]:
    """The sampled JavaScript's self time (ms) between two trace times, by bundle kind (browser_profile's
    SCRIPT_KINDS; the special nodes as they are named: program, garbage collector, idle)."""
    nodes = {n["id"]: n["callFrame"] for n in profile["nodes"]}
    out: dict[str, float] = {}
    at = profile["startTime"]
    deltas = profile.get("timeDeltas", [])
    for node_id, delta, nxt in zip(profile.get("samples", []), deltas, deltas[1:] + [0]):
        at += delta
        if not a_us <= at < b_us:
            continue
        frame = nodes[node_id]
        url = frame.get("url", "")
        name = url.rsplit("/", 1)[-1].split("?")[0] if url else frame["functionName"] or "(native)"
        kind = next((k for prefix, k in SCRIPT_KINDS.items() if name.startswith(prefix)), name)
        out[kind] = out.get(kind, 0.0) + nxt / 1000
    return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1]) if v >= 5}


def busy_between(tasks: list[tuple[float, float, float]], a_us: float, b_us: float) -> tuple[float, float]:
    """The main thread's wall busy and thread CPU (ms) between two trace times."""
    busy = cpu = 0.0
    for ts, dur, tdur in tasks:
        part = max(0.0, min(ts + dur, b_us) - max(ts, a_us))
        busy += part
        cpu += tdur * part / dur if dur else 0
    return busy / 1000, cpu / 1000


def milestones(events: list[dict], messages: list[dict], ws: dict) -> dict:
    """The visit's milestones in trace microseconds: navigation start, websocket created / open, the script's
    start (`new_session`), first and last element delta, `script_finished`, the page drawn (the first RENDERED mark)."""
    marks = sorted(e["ts"] for e in events if e.get("name") == RENDERED_MARK)
    nav = [e["ts"] for e in events if e.get("name") == "navigationStart" and e.get("ts")]
    deltas = [m["s"] * 1e6 for m in messages if m["kind"].startswith("delta:")]
    first_of = lambda kind: next((m["s"] * 1e6 for m in messages if m["kind"] == kind), None)  # noqa: E731
    return {"navigation": min(nav) if nav else None,
            "websocket created": ws.get("created") and ws["created"] * 1e6,
            "websocket open": ws.get("open") and ws["open"] * 1e6,
            "script started (new_session)": first_of("new_session"),
            "first element": deltas[0] if deltas else None,
            "last element": deltas[-1] if deltas else None,
            "script finished": first_of("script_finished"),
            "drawn (RENDERED)": marks[0] if marks else None}


def timed_visit(page, address: str, heading: str, content: str | None, trace_path: Path, server_pid: int) -> dict:
    cdp = page.context.new_cdp_session(page)
    frames: list[tuple[float, bytes]] = []
    ws: dict = {}

    def frame(event: dict) -> None:
        payload = event["response"]["payloadData"]
        frames.append((event["timestamp"], base64.b64decode(payload) if event["response"]["opcode"] == 2 else payload.encode()))

    cdp.on("Network.webSocketFrameReceived", frame)
    cdp.on("Network.webSocketCreated", lambda e: ws.setdefault("created_url", e["url"]))
    cdp.on("Network.webSocketWillSendHandshakeRequest", lambda e: ws.setdefault("created", e["timestamp"]))
    cdp.on("Network.webSocketHandshakeResponseReceived", lambda e: ws.setdefault("open", e["timestamp"]))
    cdp.send("Network.enable")
    cdp.send("Profiler.enable")
    cdp.send("Profiler.setSamplingInterval", {"interval": 200})
    done: dict = {}
    cdp.on("Tracing.tracingComplete", lambda event: done.update(event))
    cdp.send("Tracing.start", {"traceConfig": {"includedCategories": TRACE_CATEGORIES + ["blink.user_timing"],
                                               "recordMode": "recordAsMuchAsPossible"}, "transferMode": "ReturnAsStream"})
    cdp.send("Profiler.start")
    before = process_cpu()
    sampler = ServerCpu(server_pid)
    sampler.start()
    t0, goto_monotonic = time.perf_counter(), time.monotonic()
    page.goto(address, wait_until="commit")
    while True:
        page.wait_for_function(MARKED, arg=[heading, content], polling=25, timeout=TIMEOUT_MS)
        drawn = time.perf_counter()
        page.wait_for_timeout(SETTLE_MS)
        if page.evaluate(RENDERED, [heading, content]):
            break
    after = process_cpu()
    server_samples = sampler.stop()
    js = cdp.send("Profiler.stop")["profile"]
    cdp.send("Tracing.end")
    events = trace_events(cdp, page, done, trace_path)
    cpu = {k: round(after.get(k, 0) - before.get(k, 0), 2) for k in after}
    return {"first_s": round(drawn - t0, 3), "browser_cpu_s": round(sum(cpu.values()), 2), "cpu_by_process_s": cpu,
            "events": events, "messages": forward_messages(frames), "websocket": ws, "server_samples": server_samples,
            "goto_monotonic": goto_monotonic, "js": js}


def summarise(visit_: dict, bin_ms: float) -> dict:
    events, messages, samples, js = visit_.pop("events"), visit_["messages"], visit_.pop("server_samples"), visit_.pop("js")
    marks = milestones(events, messages, visit_["websocket"])
    zero = marks["navigation"] or min(e["ts"] for e in events if e.get("ts"))
    end = marks["drawn (RENDERED)"] or max(e["ts"] + e.get("dur", 0) for e in events if e.get("ts"))
    tasks = main_tasks(events)
    ms = lambda us: None if us is None else round((us - zero) / 1000, 1)  # noqa: E731
    stretches = []
    named = [(name, us) for name, us in marks.items() if us is not None]
    named.sort(key=lambda kv: kv[1])
    for (a_name, a), (b_name, b) in zip(named, named[1:]):
        busy, cpu = busy_between(tasks, a, b)
        stretches.append({"from": a_name, "to": b_name, "ms": round((b - a) / 1000, 1), "main_busy_ms": round(busy, 1),
                          "main_cpu_ms": round(cpu, 1), "js_ms": js_between(js, a, b)})
    for m in messages:
        m["t_ms"] = ms(m.pop("s") * 1e6)
    server = server_bins(samples, zero, end, bin_ms)
    bins = busy_bins(events, zero, end, bin_ms)
    for row, cpu_ms in zip(bins, server):
        row["server_cpu_ms"] = cpu_ms
        at = zero + row["t_ms"] * 1000
        row["js_ms"] = {k: v for k, v in js_between(js, at, at + bin_ms * 1000).items() if k not in ("(idle)", "(program)")}
    # The server's last busy bin: its script's end as the server saw it (the frames' times are the renderer's).
    busy = [row["t_ms"] for row in bins if row["server_cpu_ms"] >= bin_ms / 4]
    clock_check_ms = ms(visit_.pop("goto_monotonic") * 1e6)
    return {**{k: v for k, v in visit_.items() if k != "messages"},
            "milestones_ms": {k: ms(v) for k, v in marks.items()}, "stretches": stretches,
            "server_last_busy_bin_ms": busy[-1] if busy else None,
            "goto_ms": clock_check_ms, "messages": messages, "bins": bins, "main_thread": main_thread_split(events)}


def run(url: str, page_path: str, query: str, returning: bool, entry: str, bin_ms: float, trace_out: str = "") -> dict:
    target, suffix, content, heading = page_to_visit(url, page_path, query)
    address = f"{target['url']}{suffix}"
    port = free_port()  # a returning browser's two servers share it: its cached front end is the origin's
    with sync_playwright() as playwright, visit_setting(playwright, url, address, heading, content, returning=returning,
                                                        entry=entry, port=port) as (folder, config_path, context):
        with server(config_path, folder / "timed.log", entry, port) as (base, _, sampler):
            page = context.new_page()
            result = timed_visit(page, f"{base}/{address}", heading, content,
                                 Path(trace_out) if trace_out else folder / "trace.json", sampler.pid)
            result["server_first_cpu_s"] = round(cpu_seconds(sampler.pid) - sampler.started_cpu_s, 2)
            sampler.stop()
    result = summarise(result, bin_ms)
    result.update(page=page_path + suffix, browser="returning" if returning else "new", load=os.getloadavg()[0])
    return result


def report(result: dict) -> str:
    lines = [f"{result['page']} ({result['browser']} browser, load {result['load']:.1f}): first visit {result['first_s']:.2f} s, "
             f"server {result['server_first_cpu_s']:.2f} CPU-s, browser {result['browser_cpu_s']:.2f} CPU-s"]
    main = result["main_thread"]
    if main:
        lines.append(f"renderer main thread: busy {main['busy_s']:.2f} s, thread CPU {main['busy_cpu_s']:.2f} s")
    lines.append("milestones (ms from navigation): " + ", ".join(f"{k} {v}" for k, v in result["milestones_ms"].items()))
    for s in result["stretches"]:
        lines.append(f"  {s['from']:>28s} → {s['to']:<28s} {s['ms']:8.1f} ms, main thread busy {s['main_busy_ms']:7.1f} "
                     f"(CPU {s['main_cpu_ms']:6.1f})")
        if s["ms"] >= 100:
            lines.append("      javascript (sampled wall ms): " + ", ".join(f"{k} {v:.0f}" for k, v in s["js_ms"].items()))
    lines.append("messages (ms, kind, bytes):")
    for m in result["messages"]:
        lines.append(f"  {m['t_ms']:8.1f}  {m['kind']:28s} {m['bytes']:8,d}")
    lines.append(f"page.goto at {result['goto_ms']} ms (the clocks agree if this is a few ms before 0); the server's "
                 f"last busy bin starts at {result['server_last_busy_bin_ms']} ms")
    lines.append("per bin (ms from navigation: renderer main thread busy / CPU ms | server CPU ms):")
    lines += [f"  {b['t_ms']:6d}: {b['busy_ms']:5.0f} / {b['cpu_ms']:4.0f} | {b['server_cpu_ms']:4d}   "
              + ", ".join(f"{k} {v:.0f}" for k, v in list(b["js_ms"].items())[:3]) for b in result["bins"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the warehouse (sqlite:///… or postgresql://…)")
    parser.add_argument("--page", required=True, help="the page's path (scorecard, delivery, rollbacks, …)")
    parser.add_argument("--query", default="", help="the page's query, e.g. team=payments")
    parser.add_argument("--browser", choices=["new", "returning"], default="returning")
    parser.add_argument("--entry", choices=["serve", "script"], default="serve")
    parser.add_argument("--bin-ms", type=float, default=100, help="the main thread's busy time per bin of this many ms")
    parser.add_argument("--trace", default="", help="keep the Chrome trace here (JSON, opens in chrome://tracing)")
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    result = run(args.url, args.page, args.query, args.browser == "returning", args.entry, args.bin_ms, args.trace)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(report(result))
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
