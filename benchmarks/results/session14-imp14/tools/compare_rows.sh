#!/bin/bash
# Import the 1M-PR file with one checkout into a fresh schema; print md5 of the rows in key order, the row count,
# the index definitions, pg_class relallvisible/relpages, and the CLI's printed counts.
ROOT=$1; SCHEMA=$2; FILE=/work/wt/imp14/benchmarks/data/csv-large/pull_requests.csv
B=postgresql://postgres@127.0.0.1:5432/imp14_bench
U="$B?options=-csearch_path%3D$SCHEMA"
psql $B -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE; CREATE SCHEMA $SCHEMA" 2>/dev/null
cd $ROOT && .venv/bin/python -c "from warehouse import open_warehouse; open_warehouse('$U')"
SCORECARD_WAREHOUSE_URL=$U .venv/bin/python -m benchmarks.probes import_cli pull_requests $FILE | python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['printed'])"
psql $B -Atc "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM $SCHEMA.pull_requests t"
psql $B -Atc "SELECT string_agg(replace(indexdef, '$SCHEMA.', ''), '; ' ORDER BY indexname) FROM pg_indexes WHERE schemaname = '$SCHEMA' AND tablename = 'pull_requests'" | md5sum
psql $B -Atc "SELECT relpages, relallvisible, reltuples FROM pg_class WHERE oid = '$SCHEMA.pull_requests'::regclass"
psql $B -Atc "SELECT count(*) FROM pg_stats WHERE schemaname = '$SCHEMA' AND tablename = 'pull_requests'"
psql $B -Atc "SELECT source, status, rows, detail::json->'tables' FROM $SCHEMA.sync_runs"
