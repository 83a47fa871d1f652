"""Summarise a py-spy raw file for one thread: python spysum.py FILE THREAD_SUBSTR [depth-filter-substr]"""
import sys, collections
path, thread = sys.argv[1], sys.argv[2]
want = sys.argv[3] if len(sys.argv) > 3 else None
incl = collections.Counter(); total = 0
for line in open(path):
    stack, _, n = line.rstrip().rpartition(" ")
    frames = stack.split(";")
    if thread not in frames[0]:
        continue
    n = int(n); total += n
    seen = set()
    for f in frames[1:]:
        key = f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].split("/")[-1] + ")" if " (" in f else f
        if key in seen: continue
        seen.add(key); incl[key] += n
print("total", total)
for k, v in incl.most_common(80):
    if want and want not in k: continue
    print(f"{v:6d} {v/total:5.1%} {k}")
