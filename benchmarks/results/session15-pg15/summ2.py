"""Script thread wall (idle included) by app-level frame, for two profiles side by side."""
import collections, sys, re
rate = 200
def load(path):
    fn = collections.Counter(); total = 0
    for line in open(path):
        stack, c = line.rstrip().rsplit(' ', 1); c = int(c)
        frames = stack.split(';')
        if 'ScriptRunner.scriptThread' not in frames[0]: continue
        total += c
        seen = set()
        for f in frames[1:]:
            m = re.match(r'(\S+) \(((?:app|reports|warehouse|metrics)/[^:]+):(\d+)\)', f)
            if not m: continue
            key = f"{m.group(2)}:{m.group(1)}"
            if key in seen: continue
            seen.add(key); fn[key] += c
    return fn, total
a, ta = load(sys.argv[1]); b, tb = load(sys.argv[2])
print(f"script thread wall: {ta/rate:.2f} s vs {tb/rate:.2f} s")
keys = sorted(set(a) | set(b), key=lambda k: -max(a[k], b[k]))
for k in keys[:int(sys.argv[3]) if len(sys.argv) > 3 else 40]:
    print(f"{a[k]/rate:6.2f} {b[k]/rate:6.2f}  {k}")
