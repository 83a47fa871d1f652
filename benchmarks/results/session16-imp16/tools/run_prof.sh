#!/bin/bash
# usage: run_prof.sh CHECKOUT TAG  -> first load then reimport into a fresh db
set -e
root=$1; tag=$2
d=$(mktemp -d /tmp/imp16/db.XXXX)
export SCORECARD_WAREHOUSE_URL=sqlite:///$d/w.db
cd $root
.venv/bin/python -c "from warehouse import open_warehouse; open_warehouse('$SCORECARD_WAREHOUSE_URL')"
echo "== $tag first"; .venv/bin/python /tmp/imp16/prof.py /work/wt/imp16/benchmarks/data/csv-large/pull_requests.csv
echo "== $tag again"; .venv/bin/python /tmp/imp16/prof.py /work/wt/imp16/benchmarks/data/csv-large/pull_requests.csv
rm -rf $d
