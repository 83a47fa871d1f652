import gc, os, sys, time
spent = [0.0]; start = [0.0]; counts = [0, 0, 0]
def cb(phase, info):
    if phase == "start": start[0] = time.process_time()
    else: spent[0] += time.process_time() - start[0]; counts[info["generation"]] += 1
gc.callbacks.append(cb)
real_exit = os._exit
def dump_exit(code):
    print("gc cpu", round(spent[0], 4), counts, "total cpu", round(time.process_time(), 3), file=sys.stderr); real_exit(code)
os._exit = dump_exit
sys.argv = ["scorecard"] + sys.argv[1:]
from app.cli import main
main()
