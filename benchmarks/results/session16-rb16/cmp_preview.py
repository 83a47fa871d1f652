import json, sys, datetime as dt
sys.path.insert(0, ".")
from tests.app.test_table_html import cells
def check(main_file, branch_file):
    m = json.load(open(main_file))["elements"]; b = json.load(open(branch_file))["elements"]
    grid = next(e for e in m if e["type"] == "dataframe" and "rolled_back_at" in e["columns"])
    prev = cells(next(e["body"] for e in b if e["type"] == "html" and "rowsPreview" in e["body"]))
    cols = grid["columns"]; rows = [dict(zip(cols, r)) for r in grid["rows"][:10]]
    def when(s): return dt.datetime.fromisoformat(s).astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    ok = 0
    for row, links, r in zip(prev.rows, prev.links, rows):
        expect = ["view", r["title"], r["repo"], f"{int(r['number']):d}", when(r["merged_at"]), r["rolled_back_how"],
                  when(r["rolled_back_at"]), r["ai_tools"], r["ai_mode"], r["ai_signals"]]
        assert row == expect, (row, expect)
        assert links[0] == r["view"], (links[0], r["view"])
        ok += 1
    bgrid = next(e for e in b if e["type"] == "dataframe" and "rolled_back_at" in e["columns"])
    assert bgrid == grid
    print(main_file, "preview rows equal to main's grid's first", ok, "; branch grid == main grid:", bgrid == grid, len(grid["rows"]), "rows")
check(sys.argv[1], sys.argv[2])
