#!/usr/bin/env bash
# Steps per second of the paper's transformer (2 layers, d=128, 4 heads, post-LN; modular division
# p=97, 50/50 split, minibatch 512, Adam) in DJL (PyTorch 2.7.1 engine) against the same model,
# data and optimizer in Debian's PyTorch 1.13 (/usr/bin/python3; apt-get install python3-torch
# python3-numpy libopenblas0-pthread), on this CPU, with the same thread count.
#
# Rounds alternate DJL and PyTorch runs (same warm-up, same timed steps) so that both see the same
# machine load; the ratio is torch_ms/djl_ms over the medians of all blocks (> 1: DJL is faster).
# Both variants run: "last" (the last layer computes only the classified position, what training
# uses) and "full" (every position, the textbook computation). Same values either way.
#
# Env: THREADS (2), ROUNDS (2), WARMUP (30), BLOCKS (5), STEPS (30), BATCH (512),
#      VARIANTS ("last full"), OMP_WAIT_POLICY (PASSIVE: with busy-waiting OpenMP threads a shared,
#      oversubscribed machine slows both engines down by 10x or more).
# Output: raw lines, then a summary; results also under runs/bench/ (git-ignored).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
THREADS="${THREADS:-2}" ROUNDS="${ROUNDS:-2}" WARMUP="${WARMUP:-30}" BLOCKS="${BLOCKS:-5}"
STEPS="${STEPS:-30}" BATCH="${BATCH:-512}" VARIANTS="${VARIANTS:-last full}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" DJL_OFFLINE=true
jar=slingshot-examples/target/slingshot-examples.jar
if [ ! -f "$jar" ] || [ -n "$(find slingshot-*/src/main -newer "$jar" -print -quit)" ]; then
  ./mvnw -B -o -q -DskipTests -Dspotless.check.skip=true package -pl slingshot-examples -am >&2
fi
out="runs/bench/transformer_speed-$(date -u +%Y%m%dT%H%M%SZ).txt"
mkdir -p runs/bench
{
  echo "# $(date -u +%FT%TZ) $(uname -srm); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"
  echo "# THREADS=$THREADS ROUNDS=$ROUNDS WARMUP=$WARMUP BLOCKS=$BLOCKS STEPS=$STEPS BATCH=$BATCH OMP_WAIT_POLICY=$OMP_WAIT_POLICY"
  for round in $(seq "$ROUNDS"); do
    for variant in $VARIANTS; do
      echo "## round $round variant $variant"
      java -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
        -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
        -cp "$jar:slingshot-examples/target/lib/*" dev.slingshot.examples.TransformerBench \
        "$WARMUP" "$BLOCKS" "$STEPS" "$BATCH" "$variant" 2>&1 | grep -E '^djl'
      /usr/bin/python3 scripts/bench/transformer_speed.py "$THREADS" "$WARMUP" "$BLOCKS" "$STEPS" \
        "$BATCH" "$variant" 2>&1 | grep -E '^torch'
    done
  done
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
/usr/bin/python3 - "$out" <<'PY'
import re, statistics, sys
blocks = {}
for line in open(sys.argv[1]):
    m = re.match(r"## round \d+ variant (\w+)", line)
    if m:
        variant = m.group(1)
    m = re.match(r"(djl|torch) block \d+: ([\d.]+) ms/step", line)
    if m:
        blocks.setdefault((m.group(1), variant), []).append(float(m.group(2)))
print("## summary (median over all timed blocks of all rounds)")
for variant in sorted({v for _, v in blocks}):
    d = statistics.median(blocks[("djl", variant)])
    t = statistics.median(blocks[("torch", variant)])
    print(f"{variant}: djl {d:.1f} ms/step ({1000/d:.2f} steps/s), torch {t:.1f} ms/step "
          f"({1000/t:.2f} steps/s), ratio djl/torch steps/s = {t/d:.2f}x")
if ("djl", "last") in blocks and ("torch", "full") in blocks:
    d = statistics.median(blocks[("djl", "last")])
    t = statistics.median(blocks[("torch", "full")])
    print(f"djl last vs torch full (textbook): {t/d:.2f}x")
PY
echo "raw figures: $out"
