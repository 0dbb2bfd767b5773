#!/usr/bin/env bash
# Runs `slingshot doctor` (scripts/gpu/README.md) on a GPU machine that has no Java and no network,
# with the JRE and jars of the bundle beside this script (made by make-bundle.sh) and the libtorch
# of the machine's pip PyTorch, through DJL's prebuilt cu128 JNI library. If that fails (or with
# BUILD_JNI=always) it rebuilds the JNI library against that libtorch (build-jni.sh) and runs again.
# With MEASURE=all it then runs measure-all.sh (every GPU figure of issue #6, time-boxed).
#
#   bash .gpu/run-on-device.sh                 the doctor
#   MEASURE=all bash .gpu/run-on-device.sh     the doctor, then every measurement (measure-all.sh)
#
# Writes to $OUT (default ./gpu-out), at most 8 files (the device tool brings back no more):
#   run.log             everything below, with a timed trace of each command
#   smoke.txt           the doctor's report with DJL's prebuilt cu128 JNI library; after a JVM
#                       crash or timeout also each check alone and the hs_err files
#   ldd.txt             ldd and ldd -r (undefined symbols) of the JNI libraries against torch/lib
#   jni-build.log       only when the JNI library was rebuilt
#   smoke-rebuilt.txt   the doctor's report with the rebuilt JNI library (plus the bf16 check)
#   libdjl_torch.so     the rebuilt JNI library (put it in .gpu/jni-built/ to reuse it)
#   torch-reference.txt the same matmuls and MLP in the machine's PyTorch (timing reference)
#   then.txt            only with THEN: the output of `slingshot $THEN`
# With MEASURE=all the text files above go into $OUT/logs.tar.gz instead (with measure-all.sh's
# logs), and $OUT gets measure.json, run.tar.gz and run/ (see measure-all.sh).
# Environment (defaults for the GPU machine):
#   PYTHON=python3  DEVICE=gpu  FLAVOR=cu128  TORCH_LIB=<torch>/lib  DOCTOR_ARGS=
#   BUILD_JNI=auto|always|never (auto: only when the prebuilt library did not pass; with
#     MEASURE=all the default is always, and the prebuilt library's doctor run is skipped)
#   REFERENCE=1 (0: skip torch-reference.txt; default 0 with MEASURE=all)
#   WORK=/tmp/slingshot-gpu (where the bundle unpacks)
#   DOCTOR_TIMEOUT=180  BUILD_TIMEOUT=360 (seconds; 120 and 150 with MEASURE=all)
#   THEN="bench overhead --quick" runs that slingshot command line afterwards with the JNI library
#   that passed (DJL's default device is the GPU once Engine.getGpuCount() > 0); THEN_TIMEOUT=240,
#   THEN_JAVA_OPTS. $OUT takes 8 files at most: write THEN's files there sparingly.
#   MEASURE=all, BUDGET_S=500 (seconds for the whole script, doctor included) and the knobs of
#   measure-all.sh.
# A JNI library brought in .gpu/jni-built/libdjl_torch.so is used instead of a rebuild; if it
# fails the doctor and the bundle has the JNI sources, the library is rebuilt after all.
# Exit code: 0 when one JNI library passed every check, else the doctor's code (1 a check
# failed, 2 the engine did not load, 127 symbol lookup error, 134 crash or abort, 137 timeout).
set -u -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
# The start of the time budget of MEASURE=all (measure-all.sh counts BUDGET_S from here).
export MEASURE_T0="${MEASURE_T0:-$(date +%s)}"

main() {
  export PS4='+ [${SECONDS}s] '
  local py="${PYTHON:-python3}" device="${DEVICE:-gpu}" flavor="${FLAVOR:-cu128}"
  local work="${WORK:-/tmp/slingshot-gpu}" build="${BUILD_JNI:-auto}"
  local measure="${MEASURE:-}" reference="${REFERENCE:-1}"
  local doctor_timeout="${DOCTOR_TIMEOUT:-180}" build_timeout="${BUILD_TIMEOUT:-360}"
  if [ -n "$measure" ] && [ "$measure" != all ]; then
    echo "MEASURE=$measure: only MEASURE=all is known"
    return 3
  fi
  if [ "$measure" = all ]; then
    build="${BUILD_JNI:-always}"
    reference="${REFERENCE:-0}"
    doctor_timeout="${DOCTOR_TIMEOUT:-120}"
    build_timeout="${BUILD_TIMEOUT:-150}"
  fi
  set -x

  : "=== 1. the bundle"
  head -5 "$here/MANIFEST.txt" 2>/dev/null
  rm -rf "$work"
  mkdir -p "$work/crash"
  # where the doctor's files go: $OUT, or with MEASURE=all a folder packed into logs.tar.gz
  local res="$OUT"
  if [ "$measure" = all ]; then
    res="$work/logs"
    mkdir -p "$res"
  fi
  tar -xJf "$here/slingshot-gpu.tar.xz" -C "$work" ||
    "$py" -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
      "$here/slingshot-gpu.tar.xz" "$work" || { echo "cannot unpack the bundle"; return 3; }
  chmod -R u+rwX "$work" && chmod +x "$work"/jre/bin/* "$work"/jre/lib/jspawnhelper 2>/dev/null
  du -sh "$work"/* | cat

  : "=== 2. the machine"
  uname -a
  nproc
  nvidia-smi -L
  nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,compute_cap --format=csv
  ldd --version | head -1
  g++ --version | head -1

  : "=== 3. the machine's PyTorch"
  "$py" -c 'import torch,os,sys
print("python", sys.version.split()[0], sys.executable)
print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(),
      "cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI, "dir", os.path.dirname(torch.__file__))
print("cuda available", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
  local torch_dir
  torch_dir="$("$py" -c 'import torch,os;print(os.path.dirname(torch.__file__))')"
  local torch_lib="${TORCH_LIB:-$torch_dir/lib}"
  ls -la "$torch_lib"
  # The CUDA libraries of a pip torch live in site-packages/nvidia/*/lib (nvidia/cu13/lib for cu13).
  local nv_dirs cudart
  nv_dirs="$(find "$(dirname "$torch_dir")/nvidia" -name 'lib*.so*' -printf '%h\n' 2>/dev/null | sort -u | tr '\n' ':')"
  tr ':' '\n' <<<"$nv_dirs" | while read -r d; do [ -n "$d" ] && ls "$d"; done | tr '\n' ' '
  echo
  cudart="$(find "$(dirname "$torch_dir")/nvidia" /usr/local/cuda/lib64 -name 'libcudart.so*' 2>/dev/null | sort | head -1)"

  : "=== 4. the environment DJL reads"
  export PYTORCH_LIBRARY_PATH="$torch_lib"  # load this libtorch, do not extract or download one
  export PYTORCH_FLAVOR="$flavor"           # take the cu128 JNI (not cu130-precxx11 from CudaUtils)
  export DJL_CACHE_DIR="$work/djl-cache"    # where the pre-extracted JNI library lies
  export DJL_OFFLINE=true                   # never download (a failure instead of a hang)
  export LD_LIBRARY_PATH="$torch_lib:$nv_dirs${LD_LIBRARY_PATH:-}"
  env | grep -E '^(PYTORCH_|DJL_|LD_LIBRARY_PATH|CUDA_)' | sort
  local jni
  jni="$(find "$work/djl-cache/pytorch" -name '*-libdjl_torch.so' -path "*-$flavor-*" | head -1)"
  echo "JNI library: ${jni:-none for $flavor in the bundle: DJL extracts it from the pytorch-jni jar}"

  : "=== 5. does the JNI library link against this libtorch?"
  (
    set +x
    if [ -n "$jni" ]; then
      echo "== $jni (DJL's prebuilt $flavor)"
      ldd "$jni"
      echo "-- undefined symbols (ldd -r), first 50 of $(ldd -r "$jni" 2>&1 | grep -c 'undefined symbol'):"
      ldd -r "$jni" 2>&1 | grep 'undefined symbol' | sed 's/^\s*undefined symbol: //' | head -50 |
        { command -v c++filt >/dev/null && c++filt || cat; }
    fi
  ) 2>&1 | tee "$res/ldd.txt"

  : "=== 6. the JRE"
  local java="$work/jre/bin/java"
  "$java" -version
  "$java" --list-modules | tr '\n' ' '
  echo
  local jopts=(-Dai.djl.offline=true -XX:ErrorFile="$work/crash/hs_err_%p.log"
    -Dorg.slf4j.simpleLogger.log.ai.djl.pytorch.jni.LibUtils=debug)
  [ -n "$cudart" ] && jopts+=(-Djna.library.path="$(dirname "$cudart")")
  # On a timeout the JVM first gets SIGQUIT (it prints every thread's stack), 15 s later SIGKILL
  # (exit code 137).
  doctor() {
    timeout --signal=QUIT --kill-after=15 "${DOCTOR_TIMEOUT:-$doctor_timeout}" "$java" "${jopts[@]}" \
      -cp "$work/lib/*" dev.slingshot.examples.Slingshot doctor "$@"
  }

  local rc=-2 rc2=-1
  if [ "$measure" = all ] && [ "$build" = always ]; then
    : "=== 7. skipped with MEASURE=all: DJL's prebuilt $flavor JNI library fails against libtorch 2.11 (docs/gpu/)"
  else
    : "=== 7. slingshot doctor with DJL's prebuilt $flavor JNI library"
    # shellcheck disable=SC2086
    doctor --device "$device" ${DOCTOR_ARGS:-} 2>&1 | tee "$res/smoke.txt"
    rc=${PIPESTATUS[0]}
  fi
  if [ "$rc" -ge 124 ]; then
    : "the JVM died (rc=$rc; 127 symbol lookup error, 134 abort, 137 timeout): each check alone"
    (
      set +x
      echo "doctor exit code $rc with the prebuilt JNI library; each check in its own JVM:"
      for c in tensor matmul fp16 backward hvp mlp set index; do
        [ "$rc" = 137 ] && [ "$c" != tensor ] && [ "$c" != index ] && continue  # a hang: 2 only
        DOCTOR_TIMEOUT=60 doctor --device "$device" --only "$c" 2>&1 |
          grep -E '^\[(PASS|FAIL|SKIP)\]|^summary|Exception|Error:|lookup error|terminate|fatal' | head -20
        echo "-> $c: exit code ${PIPESTATUS[0]}"
      done
      for f in "$work"/crash/hs_err_*.log; do
        [ -f "$f" ] && { echo "==== $f"; cat "$f"; }
      done
    ) 2>&1 | tee -a "$res/smoke.txt"
  fi

  if [ "$build" = always ] || { [ "$build" = auto ] && [ "$rc" != 0 ]; }; then
    : "=== 8. the JNI library rebuilt against this libtorch"
    local built="$work/jni-build/libdjl_torch.so" from
    # First a library brought in .gpu/jni-built/ (no build), then one built from the sources.
    for from in brought sources; do
      rm -f "$built"
      if [ "$from" = brought ]; then
        [ -f "$here/jni-built/libdjl_torch.so" ] || continue
        mkdir -p "$work/jni-build" && cp "$here/jni-built/libdjl_torch.so" "$built"
        echo "using the library brought in .gpu/jni-built/" | tee -a "$res/jni-build.log"
      elif [ -d "$work/jni-src" ]; then
        timeout --kill-after=10 "$build_timeout" \
          bash "$here/build-jni.sh" "$work/jni-src" "$work/jni-build" 2>&1 | tee -a "$res/jni-build.log"
      else
        echo "no jni-src in the bundle (make-bundle.sh without DJL_SRC): cannot rebuild" | tee -a "$res/jni-build.log"
      fi
      [ -f "$built" ] || continue
      [ "$from" = sources ] && cp "$built" "$OUT/libdjl_torch.so"
      local sub="${jni#"$work/djl-cache/"}"
      [ -n "$jni" ] || sub="pytorch/2.7.1-$flavor-linux-x86_64/0.35.1-libdjl_torch.so"
      rm -rf "$work/djl-cache-built"
      mkdir -p "$(dirname "$work/djl-cache-built/$sub")"
      cp "$built" "$work/djl-cache-built/$sub"
      (
        set +x
        echo
        echo "== $built (rebuilt, from $from)"
        ldd "$built"
        echo "-- undefined symbols (ldd -r): $(ldd -r "$built" 2>&1 | grep -c 'undefined symbol')"
        ldd -r "$built" 2>&1 | grep 'undefined symbol' | head -20
      ) 2>&1 | tee -a "$res/ldd.txt"
      # shellcheck disable=SC2086
      DJL_CACHE_DIR="$work/djl-cache-built" doctor --device "$device" ${DOCTOR_ARGS:-} 2>&1 |
        tee -a "$res/smoke-rebuilt.txt"
      rc2=${PIPESTATUS[0]}
      if [ "$rc2" -lt 124 ]; then
        : "bfloat16, in its own JVM: it aborts the JVM unless the library has the bf16 patch"
        DOCTOR_TIMEOUT=60 DJL_CACHE_DIR="$work/djl-cache-built" doctor --device "$device" --only bf16 2>&1 |
          grep -vE '^  |^(java|djl|engine|libtorch|capabilities|gpu count|cuda|default device|loaded native)' |
          tee -a "$res/smoke-rebuilt.txt"
        echo "bf16 check exit code ${PIPESTATUS[0]}" | tee -a "$res/smoke-rebuilt.txt"
      fi
      [ "$rc2" = 0 ] && break
    done
  fi

  local cache=""
  if [ "$rc" = 0 ]; then cache="$work/djl-cache"; elif [ "$rc2" = 0 ]; then cache="$work/djl-cache-built"; fi
  if [ -n "${THEN:-}" ]; then
    : "=== 8b. THEN: slingshot $THEN, with the JNI library that passed"
    if [ -n "$cache" ]; then
      # shellcheck disable=SC2086
      DJL_CACHE_DIR="$cache" timeout --signal=QUIT --kill-after=15 "${THEN_TIMEOUT:-240}" \
        "$java" "${jopts[@]}" ${THEN_JAVA_OPTS:-} -cp "$work/lib/*" dev.slingshot.examples.Slingshot $THEN \
        2>&1 | tee "$res/then.txt"
      echo "THEN exit code ${PIPESTATUS[0]}" | tee -a "$res/then.txt"
    else
      echo "THEN skipped: no JNI library passed every check" | tee "$res/then.txt"
    fi
  fi

  if [ "$measure" = all ]; then
    : "=== 8c. MEASURE=all: measure-all.sh, with the JNI library that passed"
    # A launcher for measure-all.sh: this JRE, its options and class path, the JNI library that
    # passed (none: measure-all.sh runs the PyTorch parts only).
    local launcher="$work/bin/java-slingshot"
    mkdir -p "$work/bin"
    {
      echo '#!/usr/bin/env bash'
      printf 'export DJL_CACHE_DIR=%q\n' "${cache:-$work/djl-cache}"
      printf 'exec %q' "$java"
      printf ' %q' "${jopts[@]}"
      # shellcheck disable=SC2016 # expanded when the launcher runs
      printf ' ${MEASURE_JAVA_OPTS:-} -cp %q "$@"\n' "$work/lib/*"
    } >"$launcher"
    chmod +x "$launcher"
    cat "$launcher"
    local ms="$here/measure-all.sh"
    [ -f "$ms" ] || ms="$PWD/scripts/gpu/measure-all.sh"
    SLINGSHOT_JAVA="$launcher" DJL_OK="$([ -n "$cache" ] && echo 1 || echo 0)" PYTHON="$py" \
      DEVICE="$device" OUT="$OUT" LOGS="$res" bash "$ms"
    echo "measure-all.sh exit code $?"
  fi

  if [ "$reference" = 1 ]; then
    : "=== 9. the same work in the machine's PyTorch"
    local tdev=cpu
    [ "$device" != cpu ] && tdev=cuda
    timeout 120 "$py" "$work/torch_mlp_reference.py" --device "$tdev" 2>&1 | tee "$res/torch-reference.txt"
  fi

  set +x
  echo
  echo "=== RESULT"
  if [ "$rc" = -2 ]; then
    echo "prebuilt $flavor JNI: not run (MEASURE=all with BUILD_JNI=always)"
  else
    echo "prebuilt $flavor JNI: doctor exit code $rc  (0 all passed, 1 a check failed, 2 engine not loaded, 127 symbol lookup error, 134 crash or abort, 137 timeout)"
    grep -hE '^\[(PASS|FAIL|SKIP)\]|^summary|^-> |lookup error|terminate called|A fatal error' "$res/smoke.txt" | cut -c1-200
  fi
  if [ "$rc2" != -1 ]; then
    echo "rebuilt JNI: doctor exit code $rc2"
    grep -hE '^\[(PASS|FAIL|SKIP)\]|^summary' "$res/smoke-rebuilt.txt" | cut -c1-200
  fi
  [ -f "$res/torch-reference.txt" ] && grep -h '^torch' "$res/torch-reference.txt"
  if [ "$measure" = all ]; then
    [ -f "$OUT/measure.json" ] && cat "$OUT/measure.json"
    # every text file of the doctor and of measure-all.sh, in one file ($OUT takes 8)
    tar -C "$res" -czf "$OUT/logs.tar.gz" . && tar -tzvf "$OUT/logs.tar.gz"
  fi
  ls -la "$OUT" "$OUT"/*/ 2>/dev/null
  if [ "$rc" = 0 ] || [ "$rc2" = 0 ]; then return 0; fi
  [ "$rc" = -2 ] && return 1
  return "$rc"
}

main "$@" 2>&1 | tee "$OUT/run.log"
exit "${PIPESTATUS[0]}"
