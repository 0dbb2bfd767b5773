#!/usr/bin/env bash
# Every GPU measurement of issue #6 in one device call, each part time-boxed, after the doctor:
#
#   MEASURE=all bash .gpu/run-on-device.sh        (the entry point: it sets up Java, DJL and the
#                                                  JNI library, then runs this script)
#
# Parts, in this order (a part that fails or runs out of time does not stop the next):
#   torch     scripts/bench/transformer_speed.py: the modular-arithmetic transformer (2 layers,
#             width 128, 4 heads, batch 512, division p=97, Adam lr 1e-3 warm-up 10, betas
#             0.9/0.98) in the machine's PyTorch on the same GPU; modes plain (data on the GPU,
#             nothing read back), upload (each batch copied from the host, like DJL's loop),
#             reads (loss and classifier norm read back each step) and bf16 (autocast)
#   djl       dev.slingshot.examples.TransformerBench: the same model and optimizer through DJL
#   overhead  slingshot bench overhead: cheap tier and every probe every 16 steps, MLP and
#             transformer, instrumented over plain time
#   hvp       slingshot bench hvp: one exact HVP over one forward+backward (128-512-512-10 MLP)
#   long      slingshot run modular (division, eps 1e-8, sharpness probes every 500 steps and
#             densely near transitions) for the time that is left, into $OUT/run
# Two parts run only when PARTS names them (issue #3's GPU checks):
#   routes    slingshot run parity-adamw with every probe every ROUTE_EVERY (100) steps for
#             ROUTE_STEPS (3000) steps, twice: with the fused TorchScript Lanczos (lanczos.pt,
#             adam_lanczos.pt) and with core's Lanczos over single products
#             (-Dslingshot.lanczos.fused=false); compare_probe_routes.py compares the probes
#   eigen     slingshot bench eigen: HVPs per lambda_max to 1e-3, warm and cold
#
# Output in $OUT (the device tool brings back 8 files; run-on-device.sh adds run.log,
# logs.tar.gz and libdjl_torch.so):
#   measure.json      flat name -> number (two strings: gpu_name, torch_version), rewritten after
#                     every part, so a killed call still has the figures measured so far
#   run.tar.gz        the long run's directory (config, metrics.jsonl, events.jsonl, plots, report)
#   run/report.md, run/loss.png, run/accuracy.png   the same three files unpacked, to read at once
# and every part's log in $LOGS (packed into logs.tar.gz by run-on-device.sh).
#
# Environment (set by run-on-device.sh unless said):
#   SLINGSHOT_JAVA  a launcher: "$SLINGSHOT_JAVA MAIN_CLASS ARGS..." runs Java with DJL set up
#                   (default here: java with slingshot-examples/target's jars, DJL's CPU build)
#   DJL_OK=1        0: no JNI library passed the doctor; the DJL parts are skipped
#   PYTHON=python3  DEVICE=gpu (cpu: the rehearsal here)  OUT=./gpu-out  LOGS=$OUT/logs
#   BUDGET_S=500    seconds for everything, counted from MEASURE_T0 (run-on-device.sh's start;
#                   default: this script's start)
#   SIZE=full       quick: tiny sizes everywhere (a rehearsal of the script, the figures are noise)
#   PARTS=torch,djl,overhead,hvp,long  the parts to run, in the order above; two more can be
#                   named: routes (first) and eigen (after hvp), e.g. PARTS=routes,overhead,hvp,eigen
#   T_TORCH=120 T_DJL=120 T_OVERHEAD=200 T_HVP=120  the most seconds each part may take
#   T_ROUTES=150 T_EIGEN=90
#   RESERVE_S=45    kept back at the end (plots of the long run, packing)
#   LONG_STEPS      the long run's steps (default: what fits, from the measured ms/step)
#   LONG_FACTOR=1.25 the long run's ms/step over the plain DJL ms/step (evaluations every 100
#                   steps, feature change, probes), for that estimate
#   LONG_MAX=100000 LONG_SET="" (more --set KEY=VALUE for the long run)
#   MEASURE_JAVA_OPTS e.g. -Dai.djl.pytorch.num_threads=1 (read by the launcher)
set -u -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
LOGS="${LOGS:-$OUT/logs}"
mkdir -p "$LOGS"
PYTHON="${PYTHON:-python3}"
DEVICE="${DEVICE:-gpu}"
SIZE="${SIZE:-full}"
DJL_OK="${DJL_OK:-1}"
BUDGET_S="${BUDGET_S:-500}"
T0="${MEASURE_T0:-$(date +%s)}"
DEADLINE=$((T0 + BUDGET_S))
RESERVE_S="${RESERVE_S:-45}"
FIG="$LOGS/figures.tsv"
: >"$FIG"

if [ -z "${SLINGSHOT_JAVA:-}" ]; then
  # Outside run-on-device.sh: this checkout's jars (./mvnw -B -o -q package -DskipTests first).
  root="$(cd "$here/../.." && pwd)"
  SLINGSHOT_JAVA="$LOGS/java-slingshot"
  cat >"$SLINGSHOT_JAVA" <<EOF
#!/usr/bin/env bash
exec java -Dai.djl.offline=true \${MEASURE_JAVA_OPTS:-} -cp "$root/slingshot-examples/target/slingshot-examples.jar:$root/slingshot-examples/target/lib/*" "\$@"
EOF
  chmod +x "$SLINGSHOT_JAVA"
fi
# transformer_speed.py: beside this script in the bundle, else in the checkout.
speed_py="$here/transformer_speed.py"
[ -f "$speed_py" ] || speed_py="$here/../bench/transformer_speed.py"
[ -f "$speed_py" ] || speed_py="$PWD/scripts/bench/transformer_speed.py"

now() { date +%s; }
PARTS="${PARTS:-torch,djl,overhead,hvp,long}"
want() { [[ ",$PARTS," == *",$1,"* ]]; }
left() { echo $((DEADLINE - $(now))); }
log() { echo "[measure $(($(now) - T0))s] $*"; }

# fig NAME VALUE: records a figure (a later value of the same name wins) and rewrites measure.json.
fig() {
  [ -n "${2:-}" ] || return 0
  printf '%s\t%s\n' "$1" "$2" >>"$FIG"
  write_json
}
write_json() {
  awk -F'\t' '
    { if (!($1 in v)) order[n++] = $1; v[$1] = $2 }
    END {
      printf "{\n"
      for (i = 0; i < n; i++) {
        k = order[i]; x = v[k]
        if (x !~ /^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) {
          if (x ~ /^-?(nan|NaN|inf|Infinity|-Infinity)$/) x = "null"
          else { gsub(/["\\]/, "", x); x = "\"" x "\"" }
        }
        printf "  \"%s\": %s%s\n", k, x, (i < n - 1 ? "," : "")
      }
      printf "}\n"
    }' "$FIG" >"$OUT/measure.json.tmp" && mv "$OUT/measure.json.tmp" "$OUT/measure.json"
}
# value of "NAME = VALUE" / "NAME: VALUE" lines: figures printed by slingshot bench on stderr
bench_figures() {
  [ -f "$1" ] || return 0
  sed -n 's/^bench: \([a-z0-9_]*\) = \([-0-9.eE+a-zA-Z]*\)$/\1\t\2/p' "$1" | while IFS=$'\t' read -r k v; do
    fig "$k" "$v"
  done
}
# ratio A B: A / B with 4 decimals, empty when either is missing
ratio() {
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a != "" && b != "" && b + 0 > 0) printf "%.4f", a / b }'
}
get() { awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { if (v != "") print v }' "$FIG"; }

# part NAME CAP CMD...: runs CMD for at most min(CAP, time left - RESERVE_S) seconds, its output in
# $LOGS/NAME.log and on the console; records status_NAME_rc and status_NAME_seconds.
part() {
  local name="$1" cap="$2"
  shift 2
  local box=$(($(left) - RESERVE_S))
  [ "$box" -gt "$cap" ] && box="$cap"
  if [ "$box" -lt 20 ]; then
    log "$name skipped: ${box}s left in the budget"
    fig "status_${name}_rc" -1
    return 1
  fi
  log "$name: up to ${box}s: $*"
  local t=$SECONDS
  # the whole output to the part's log, and as it comes (less DJL's debug lines) to the console
  timeout --signal=TERM --kill-after=15 "$box" "$@" 2>&1 | tee "$LOGS/$name.log" |
    grep --line-buffered -vE 'DEBUG|^\[main\] INFO'
  local rc=${PIPESTATUS[0]}
  fig "status_${name}_rc" "$rc"
  fig "status_${name}_seconds" "$((SECONDS - t))"
  log "$name: exit code $rc after $((SECONDS - t))s$([ "$rc" = 124 ] && echo ' (time box)')"
  return "$rc"
}

log "budget ${BUDGET_S}s from T0, $(left)s left; DEVICE=$DEVICE SIZE=$SIZE DJL_OK=$DJL_OK"
fig budget_s "$BUDGET_S"
tdev=cuda
[ "$DEVICE" = cpu ] && tdev=cpu
if [ "$tdev" = cuda ]; then
  fig gpu_name "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
fi
fig torch_version "$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null)"

if [ "$SIZE" = quick ]; then
  torch_args=(1 2 2 3 512 last)
  djl_args=(2 2 3 512 last)
  bench_quick=(--quick)
else
  torch_args=(0 50 5 100 512 last)
  djl_args=(50 5 100 512 last)
  bench_quick=()
fi

# --- 0. the probes' two routes, same run (only when PARTS names routes)
if want routes && [ "$DJL_OK" = 1 ]; then
  route_steps="${ROUTE_STEPS:-$([ "$SIZE" = quick ] && echo 400 || echo 3000)}"
  route_every="${ROUTE_EVERY:-100}"
  opts0="${MEASURE_JAVA_OPTS:-}"
  for route in fused core; do
    rm -rf "$LOGS/route-$route"
    export MEASURE_JAVA_OPTS="$opts0"
    [ "$route" = core ] && export MEASURE_JAVA_OPTS="$opts0 -Dslingshot.lanczos.fused=false"
    part "route_$route" $((${T_ROUTES:-150} / 2)) "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot \
      run parity-adamw --steps "$route_steps" --no-progress --out "$LOGS/route-$route" \
      --set probe_every="$route_every"
  done
  export MEASURE_JAVA_OPTS="$opts0"
  compare_py="$here/compare_probe_routes.py"
  [ -f "$compare_py" ] || compare_py="$PWD/scripts/gpu/compare_probe_routes.py"
  "$PYTHON" "$compare_py" "$LOGS/route-fused" "$LOGS/route-core" >"$LOGS/routes.txt" 2>&1
  fig status_routes_compare_rc "$?"
  cat "$LOGS/routes.txt"
  sed -n 's/^figure: \([a-z0-9_]*\) = \([-0-9.eE+a-zA-Z]*\)$/\1\t\2/p' "$LOGS/routes.txt" |
    while IFS=$'\t' read -r k v; do fig "$k" "$v"; done
fi

# --- 1. steps per second: PyTorch, then DJL, on the same device
if want torch; then
  PYTHONUNBUFFERED=1 part torch "${T_TORCH:-120}" "$PYTHON" "$speed_py" "${torch_args[@]}" \
    --device "$tdev" --modes plain,upload,reads,bf16 --json "$LOGS/torch.json"
fi
if [ -f "$LOGS/torch.json" ]; then
  sed -n 's/^ *"\([a-z0-9_]*\)": \([-0-9.eE+]*\),\{0,1\}$/\1\t\2/p' "$LOGS/torch.json" |
    while IFS=$'\t' read -r k v; do fig "$k" "$v"; done
fi
if [ "$DJL_OK" = 1 ]; then
  want djl && part djl "${T_DJL:-120}" "$SLINGSHOT_JAVA" dev.slingshot.examples.TransformerBench "${djl_args[@]}"
  line="$(grep -E '^djl last ms/step median=' "$LOGS/djl.log" 2>/dev/null | tail -1)"
  djl_ms="$(sed -n 's/.*median=\([0-9.]*\).*/\1/p' <<<"$line")"
  fig djl_transformer_ms_per_step "$djl_ms"
  case "$line" in *device=gpu*) fig djl_transformer_on_gpu 1 ;; *device=*) fig djl_transformer_on_gpu 0 ;; esac
  fig djl_over_torch_speed_ratio "$(ratio "$(get torch_transformer_ms_per_step)" "$djl_ms")"
  fig djl_over_torch_upload_speed_ratio "$(ratio "$(get torch_transformer_upload_ms_per_step)" "$djl_ms")"
  fig torch_bf16_over_fp32_speed_ratio \
    "$(ratio "$(get torch_transformer_ms_per_step)" "$(get torch_transformer_bf16_ms_per_step)")"

  # --- 2. the adapter's overhead: cheap tier and probes every 16 steps, MLP and transformer
  want overhead && part overhead "${T_OVERHEAD:-200}" "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot \
    bench overhead "${bench_quick[@]}" --json "$LOGS/overhead.json"
  bench_figures "$LOGS/overhead.log"

  # --- 3. one exact HVP over one forward+backward
  want hvp && part hvp "${T_HVP:-120}" "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot \
    bench hvp "${bench_quick[@]}" --json "$LOGS/hvp.json"
  bench_figures "$LOGS/hvp.log"

  # --- 3b. HVPs per lambda_max (only when PARTS names eigen)
  want eigen && part eigen "${T_EIGEN:-90}" "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot \
    bench eigen "${bench_quick[@]}" --json "$LOGS/eigen.json"
  bench_figures "$LOGS/eigen.log"

  # --- 4. the long run, for the time that is left
  run_dir="$OUT/run"
  box=$(($(left) - RESERVE_S))
  if ! want long; then
    :
  elif [ "$box" -lt 45 ]; then
    log "long run skipped: ${box}s left"
    fig status_long_rc -1
  else
    rm -rf "$run_dir"
    ms="${djl_ms:-$(get plain_transformer_ms_per_step)}"
    if [ -n "${LONG_STEPS:-}" ]; then
      steps="$LONG_STEPS"
    elif [ -n "$ms" ]; then
      # 15 s for the JVM, the engine and the model; the rest at LONG_FACTOR x the plain step
      steps="$(awk -v s="$box" -v ms="$ms" -v f="${LONG_FACTOR:-1.25}" -v max="${LONG_MAX:-100000}" \
        'BEGIN { n = int((s - 15) * 1000 / (ms * f) / 100) * 100; if (n > max) n = max; if (n < 100) n = 100; print n }')"
    else
      steps="${LONG_MAX:-100000}" # unknown speed: as many as the time box lets it do
    fi
    fig long_run_target_steps "$steps"
    # shellcheck disable=SC2086
    part long "$box" "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot run modular \
      --steps "$steps" --out "$run_dir" --no-progress \
      --set op=div eps=1e-8 sharpness_every=500 sharpness_dense=50 checkpoint_every=0 ${LONG_SET:-}
    long_rc="$(get status_long_rc)"
    metrics="$run_dir/metrics.jsonl"
    if [ -f "$metrics" ]; then
      last_step="$(tail -n 1 "$metrics" | sed -n 's/^{"step":\([0-9]*\).*/\1/p')"
      fig long_run_steps "${last_step:-0}"
      summary="$(grep -E '^modular: [0-9]+ steps in' "$LOGS/long.log" | tail -1)"
      if [ -n "$summary" ]; then
        fig long_run_ms_per_step "$(sed -n 's/.*s (\([0-9.]*\) ms\/step).*/\1/p' <<<"$summary")"
        fig long_run_episodes "$(sed -n 's/.*ms\/step); \([0-9]*\) slingshot episode.*/\1/p' <<<"$summary")"
        fig long_run_intervals "$(sed -n 's/.*episode(s) after the fit, \([0-9]*\) rule.*/\1/p' <<<"$summary")"
      fi
      if [ -z "$(get long_run_ms_per_step)" ] && [ -n "$last_step" ] && [ "$last_step" -gt 0 ]; then
        # stopped by its time box (or failed after training, e.g. in the plots: then config.json's
        # result, read below, has the exact figure): the wall-clock time per step, start-up included
        fig long_run_ms_per_step "$(ratio "$(($(get status_long_seconds) * 1000))" "$last_step")"
      fi
      fig long_run_first20_ms_per_step \
        "$(sed -n 's/^slingshot: \([0-9.]*\) ms\/step over the first.*/\1/p' "$LOGS/long.log" | tail -1)"
      # the last evaluation and the last-layer norm, from the records
      "$PYTHON" - "$metrics" "$run_dir/config.json" >"$LOGS/long-last.tsv" 2>>"$LOGS/long.log" <<'PY'
import json, sys
try:
    result = json.load(open(sys.argv[2])).get("result") or {}
    if result.get("ms_per_step"):
        print("long_run_ms_per_step\t%s" % result["ms_per_step"])
        print("long_run_wall_seconds\t%s" % result.get("wall_seconds"))
except (OSError, ValueError):
    pass
last, evaluated = None, None
with open(sys.argv[1]) as f:
    for line in f:
        try:
            r = json.loads(line)
        except ValueError:
            continue  # a line cut by the kill
        last = r
        if r.get("test_acc") is not None:
            evaluated = r
if last:
    print("long_run_last_train_loss\t%s" % last.get("train_loss"))
    norm = (last.get("norms") or {}).get("last_layer")
    if norm is not None:
        print("long_run_last_layer_norm\t%s" % norm)
if evaluated:
    for k in ("train_acc", "test_acc", "test_loss"):
        if evaluated.get(k) is not None:
            print("long_run_%s\t%s" % (k, evaluated[k]))
    print("long_run_eval_step\t%s" % evaluated.get("step"))
PY
      while IFS=$'\t' read -r k v; do fig "$k" "$v"; done <"$LOGS/long-last.tsv"
      if [ "$long_rc" != 0 ] || [ ! -f "$run_dir/report.md" ]; then
        log "long run stopped before its end (exit code $long_rc): slingshot plot regenerates plots and report"
        timeout --kill-after=10 60 "$SLINGSHOT_JAVA" dev.slingshot.examples.Slingshot plot "$run_dir" \
          >"$LOGS/plot.log" 2>&1
        fig status_plot_rc "$?"
        tail -n 5 "$LOGS/plot.log"
      fi
      # $OUT takes 8 files: the whole directory as one archive, three files of it to read at once
      tar -C "$OUT" -czf "$OUT/run.tar.gz" run && ls -la "$OUT/run.tar.gz"
      find "$run_dir" -mindepth 1 -maxdepth 1 -not -name report.md -not -name loss.png \
        -not -name accuracy.png -exec rm -rf {} +
    fi
  fi
else
  log "no JNI library passed the doctor: the DJL parts are skipped"
  fig status_djl_rc -1
fi

fig measure_seconds "$(($(now) - T0))"
log "done, $(left)s of the budget left"
cat "$OUT/measure.json"
