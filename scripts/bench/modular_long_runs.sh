#!/usr/bin/env bash
# The long runs of issue 5: modular division, p=97, 50/50 split (Thilak et al. Fig. 2 / App. E),
# Adam lr 1e-3 (10-step warm-up), betas (0.9, 0.98), with eps=1e-8 (slingshots expected) and
# eps=1e-5 (none expected; App. E, Fig. 50), one after the other (each uses both cores), niced.
# Each writes runs/<name>/{config.json,metrics.jsonl,events.jsonl,stdout.log}.
# Env: STEPS (30000), THREADS (2), EPSILONS ("1e-8 1e-5"), OMP_WAIT_POLICY (PASSIVE).
# Start: nohup scripts/bench/modular_long_runs.sh > runs/long_runs.log 2>&1 &
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
STEPS="${STEPS:-30000}" THREADS="${THREADS:-2}" EPSILONS="${EPSILONS:-1e-8 1e-5}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" DJL_OFFLINE=true
jar=slingshot-examples/target/slingshot-examples.jar
if [ ! -f "$jar" ]; then
  ./mvnw -B -o -q -DskipTests -Dspotless.check.skip=true package -pl slingshot-examples -am >&2
fi
# A private copy of the jars, so that rebuilding the worktree does not disturb a running JVM.
dist="runs/.dist-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$dist" && cp -r "$jar" slingshot-examples/target/lib "$dist/"
for eps in $EPSILONS; do
  name="div-p97-f0.5-adam-eps${eps}-s0"
  mkdir -p "runs/$name"
  echo "$(date -u +%FT%TZ) start $name ($STEPS steps)"
  nice -n 10 java -Xmx2g -Dai.djl.offline=true -Dai.djl.pytorch.num_threads="$THREADS" \
    -Dai.djl.pytorch.num_interop_threads=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "$dist/slingshot-examples.jar:$dist/lib/*" dev.slingshot.examples.ModularRun \
    --op div --p 97 --fraction 0.5 --seed 0 --optimizer adam --lr 1e-3 --eps "$eps" \
    --steps "$STEPS" --eval-every 100 --feature-every 100 --progress-every 500 \
    --out "runs/$name" > "runs/$name/stdout.log" 2>&1
  echo "$(date -u +%FT%TZ) end $name: $(tail -1 "runs/$name/stdout.log")"
done
