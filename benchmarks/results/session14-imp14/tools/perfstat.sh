#!/bin/bash
# One first import of the 1M-PR file by checkout ROOT into a fresh schema, under perf stat (user+kernel
# instructions and task-clock of the import process and its threads; the server not included).
ROOT=$1; SCHEMA=$2; FILE=/work/wt/imp14/benchmarks/data/csv-large/pull_requests.csv
B=postgresql://postgres@127.0.0.1:5432/imp14_bench
U="$B?options=-csearch_path%3D$SCHEMA"
psql $B -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA" 2>/dev/null
cd $ROOT && .venv/bin/python -c "from warehouse import open_warehouse; open_warehouse('$U')"
psql $B -qc "CHECKPOINT"
SCORECARD_WAREHOUSE_URL=$U perf stat -x, -e instructions:u,instructions:k,task-clock -o /tmp/imp14/perfstat_$SCHEMA.txt .venv/bin/python -m benchmarks.probes import_cli pull_requests $FILE > /tmp/imp14/out_$SCHEMA.json
echo "$SCHEMA load $(cut -d' ' -f1 /proc/loadavg) $(grep -v '^#' /tmp/imp14/perfstat_$SCHEMA.txt | grep . | cut -d, -f1,3 | tr '\n' ' ') $(python3 -c "import json; d=json.loads(open('/tmp/imp14/out_$SCHEMA.json').read().strip().splitlines()[-1]); print('startup', round(d['startup_s'],2), 'parse', round(d['parse_s'],2), 'write', round(d['write_s'],2), 'peak', round(d['peak_mb']))")"
