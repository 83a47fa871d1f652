"""A scheduler process for the tests: the real Scheduler, wall clock and signal handling, over one slow
fake source (tests/scheduling/fakes style) writing `batches` batches of tickets, one per `pause` seconds.

    python -m tests.scheduling.proc_scheduler URL NAME BATCHES PAUSE [RUNS [PEERS]]

Prints one line per report. Writes the marker file `<NAME>.batch<i>` (in $MARKERS) after each batch is
yielded. Stops on SIGTERM/SIGINT, or once it has finished RUNS runs of its own (0: never). With PEERS,
it first waits until that many processes are ready, so that they start together."""
import datetime as dt
import os
import pathlib
import sys
import threading
import time

import polars as pl

from config import Config, WarehouseConfig
from config.schedule import ScheduleConfig
from connectors.contract import Batch, Source
from scheduling.runner import Scheduler, graceful_stop
from warehouse import open_warehouse


def slow_source(name: str, batches: int, pause: float, markers: pathlib.Path) -> Source:
    def gen(config, secret, cursors, *, full=False, stats):
        start = int(cursors.get("main") or 0)
        start = 0 if start >= batches else start  # a finished source starts over (each run takes time)
        for i in range(start, batches):
            time.sleep(pause)
            rows = pl.DataFrame({"id": [f"{name}:{i}:{k}" for k in range(10)], "source": name, "channel": "human",
                                 "resolved_at": [dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc)] * 10})
            yield Batch(frames={"tickets": rows}, cursors={"main": str(i + 1)})
            (markers / f"{name}.batch{i}").write_text(str(os.getpid()))

    return Source(name, "", lambda config: True, gen)


def main() -> None:
    url, name, batches, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    peers = int(sys.argv[6]) if len(sys.argv) > 6 else 0
    markers = pathlib.Path(os.environ["MARKERS"])
    config = Config(warehouse=WarehouseConfig(url=url),
                    schedule=ScheduleConfig(intervals={name: 1.0}, jitter=0.0, lease=60.0))
    scheduler = Scheduler(open_warehouse(url), config, specs={name: slow_source(name, batches, pause, markers)},
                          after_sync=lambda reports: None)
    threading.Timer(900, scheduler.stop.set).start()  # a test that hangs still ends
    if peers:
        (markers / f"ready.{os.getpid()}").write_text("ready")
        while len(list(markers.glob("ready.*"))) < peers:
            time.sleep(0.02)
    finished = []

    def on_stop(signame: str) -> None:
        scheduler.stop_reason = signame

    original = scheduler.step

    def step():
        reports = original()
        for r in reports:
            print(f"{r.source} {r.status} {r.rows} {r.error or ''}", flush=True)
            if r.status != "skipped":
                finished.append(r)
        if runs and len(finished) >= runs:
            scheduler.stop.set()
        return reports

    scheduler.step = step
    with graceful_stop(scheduler.stop, on_stop):
        scheduler.run()
    print("stopped", scheduler.stop_reason, flush=True)
    os._exit(0)  # the safety timer's thread must not keep the process alive


if __name__ == "__main__":
    main()
