#!/bin/bash
# First load once per checkout (each its own fresh warehouse), then N re-imports alternating; wall and CPU-s of each.
f=/work/wt/imp16/benchmarks/data/csv-large/pull_requests.csv; n=${1:-4}
declare -A url
for side in mainref imp16; do
  d=/tmp/imp16/re_$side; rm -rf $d; mkdir -p $d; url[$side]=sqlite:///$d/w.db
  cd /work/wt/$side; /work/wt/imp16/.venv/bin/python -c "from warehouse import open_warehouse; open_warehouse('${url[$side]}')"
  SCORECARD_WAREHOUSE_URL=${url[$side]} /usr/bin/time -f "$side first: wall %e s, CPU %U+%S s" /work/wt/imp16/.venv/bin/python -m benchmarks.probes import_cli pull_requests $f >/dev/null
done
for i in $(seq $n); do
  if [ $((i % 2)) = 1 ]; then order="mainref imp16"; else order="imp16 mainref"; fi
  for side in $order; do
    cd /work/wt/$side
    SCORECARD_WAREHOUSE_URL=${url[$side]} /usr/bin/time -f "$side again $i: wall %e s, CPU %U+%S s, load $(cut -d' ' -f1 /proc/loadavg)" /work/wt/imp16/.venv/bin/python -m benchmarks.probes import_cli pull_requests $f >/dev/null
  done
done
rm -rf /tmp/imp16/re_mainref /tmp/imp16/re_imp16
