#!/bin/bash
# Import FILE with each checkout into a fresh SQLite warehouse, twice; print hashes of the PR table and indexes.
f=$1
for root in /work/wt/mainref /work/wt/imp16; do
  d=$(mktemp -d /tmp/imp16/same.XXXX); url=sqlite:///$d/w.db
  cd $root
  .venv/bin/python -c "from warehouse import open_warehouse; open_warehouse('$url')"
  SCORECARD_WAREHOUSE_URL=$url .venv/bin/python -m benchmarks.probes import_cli pull_requests $f | tail -1 | grep -o '"printed": \[[^]]*\]'
  h1=$(sqlite3 $d/w.db "select * from pull_requests order by id" | md5sum)
  SCORECARD_WAREHOUSE_URL=$url .venv/bin/python -m benchmarks.probes import_cli pull_requests $f | tail -1 | grep -o '"printed": \[[^]]*\]'
  echo "$root table after 1st: $h1 after 2nd: $(sqlite3 $d/w.db 'select * from pull_requests order by id' | md5sum)"
  echo "  schema: $(sqlite3 $d/w.db "select name, sql from sqlite_master where tbl_name='pull_requests' order by name" | md5sum) integrity: $(sqlite3 $d/w.db 'pragma integrity_check') runs: $(sqlite3 $d/w.db 'select status, rows from sync_runs order by 1,2' | tr '\n' ' ')"
  for ix in ix_pull_requests_reverts_merged_at ix_pull_requests_tools_merged_at ix_pull_requests_unmerged_signals ix_pull_requests_merged_at; do
    echo "  $ix: $(sqlite3 $d/w.db "select count(*) from pull_requests indexed by $ix where $(sqlite3 $d/w.db "select coalesce(substr(sql, instr(sql, ' WHERE ')+7), 'merged_at is not null or merged_at is null') from sqlite_master where name='$ix'")")"
  done
  ls $d; rm -rf $d
done
