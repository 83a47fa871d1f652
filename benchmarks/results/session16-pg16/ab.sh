#!/bin/bash
# ab.sh TAG URL PAGES ORDER(e.g. bmmb): alternate this branch (b) and mainref (m), one round each
TAG=$1; URL=$2; PAGES=$3; ORDER=$4
R=/work/wt/pg16/benchmarks/results/session16-pg16
i=0
for side in $(echo $ORDER | fold -w1); do
  i=$((i+1))
  if [ $side = b ]; then D=/work/wt/pg16; else D=/work/wt/mainref; fi
  L=$R/pages_${TAG}_${i}_${side}.log
  (cd $D && { echo "start $(date -u +%T) $(cat /proc/loadavg)"; timeout 900 .venv/bin/python -m benchmarks.pages $URL --starts 1 --browser returning --no-cube-build --only "$PAGES" --out $R/pages_${TAG}_${i}_${side}.json; echo "end $(date -u +%T) $(cat /proc/loadavg)"; } > $L 2>&1)
done
