#!/usr/bin/env bash
# Long runs of the transformer experiment (issue 5): `slingshot run modular` on division, p=97,
# 50/50 split (Thilak et al. Fig. 2 / App. E), Adam lr 1e-3 (10-step warm-up), betas (0.9, 0.98),
# one run per entry of RUNS, one after the other, niced, from a private copy of the jars (so that
# rebuilding the worktree does not disturb a running JVM). Each writes runs/<name>/ (config.json,
# metrics.jsonl, events.jsonl, checkpoint/, plots, report.md, stdout.log); a killed run continues
# with `./slingshot run --resume runs/<name>`.
# Env: STEPS (20000), THREADS (2), OMP_WAIT_POLICY (PASSIVE),
#      RUNS ("f0.5-adam-eps1e-8:eps=1e-8 f0.5-adam-eps1e-5:eps=1e-5"): name:key=value,... (after op=div p=97)
# Start: nohup scripts/bench/modular_long_runs.sh > runs/long_runs.log 2>&1 &
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
STEPS="${STEPS:-20000}" THREADS="${THREADS:-2}"
RUNS="${RUNS:-f0.5-adam-eps1e-8:eps=1e-8 f0.5-adam-eps1e-5:eps=1e-5}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
jar=slingshot-examples/target/slingshot-examples.jar
./slingshot --version > /dev/null # builds the jar when it is missing or stale
dist="runs/.dist-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dist" && cp -r "$jar" slingshot-examples/target/lib "$dist/"
for entry in $RUNS; do
  name="div-p97-${entry%%:*}-s0"
  sets="${entry#*:}"
  mkdir -p "runs/$name"
  echo "$(date -u +%FT%TZ) start $name ($STEPS steps, --set ${sets//,/ })"
  # shellcheck disable=SC2086
  nice -n 10 java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
    -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -Djava.awt.headless=true -cp "$dist/slingshot-examples.jar:$dist/lib/*" \
    dev.slingshot.examples.Slingshot run modular --no-progress --steps "$STEPS" --seed 0 \
    --out "runs/$name" --set op=div p=97 ${sets//,/ } \
    > "runs/$name/stdout.log" 2>&1
  echo "$(date -u +%FT%TZ) end $name: $(tail -1 "runs/$name/stdout.log")"
done
