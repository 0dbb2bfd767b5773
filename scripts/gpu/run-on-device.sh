#!/usr/bin/env bash
# Runs `slingshot doctor` (scripts/gpu/README.md) on a GPU machine that has no Java and no network,
# with the JRE and jars of the bundle beside this script (made by make-bundle.sh) and the libtorch
# of the machine's pip PyTorch, through DJL's prebuilt cu128 JNI library. If that fails (or with
# BUILD_JNI=always) it rebuilds the JNI library against that libtorch (build-jni.sh) and runs again.
#
#   bash .gpu/run-on-device.sh
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
# Environment (defaults for the GPU machine):
#   PYTHON=python3  DEVICE=gpu  FLAVOR=cu128  TORCH_LIB=<torch>/lib  DOCTOR_ARGS=
#   BUILD_JNI=auto|always|never (auto: only when the prebuilt library did not pass)
#   REFERENCE=1 (0: skip torch-reference.txt)  WORK=/tmp/slingshot-gpu (where the bundle unpacks)
#   DOCTOR_TIMEOUT=180  BUILD_TIMEOUT=360 (seconds)
#   THEN="bench overhead --quick" runs that slingshot command line afterwards with the JNI library
#   that passed (DJL's default device is the GPU once Engine.getGpuCount() > 0); THEN_TIMEOUT=240,
#   THEN_JAVA_OPTS. $OUT takes 8 files at most: write THEN's files there sparingly.
# Exit code: 0 when one JNI library passed every check, else the doctor's code (1 a check
# failed, 2 the engine did not load, 127 symbol lookup error, 134 crash or abort, 137 timeout).
set -u -o pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$PWD/gpu-out}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

main() {
  export PS4='+ [${SECONDS}s] '
  local py="${PYTHON:-python3}" device="${DEVICE:-gpu}" flavor="${FLAVOR:-cu128}"
  local work="${WORK:-/tmp/slingshot-gpu}" build="${BUILD_JNI:-auto}"
  set -x

  : "=== 1. the bundle"
  cat "$here/MANIFEST.txt" 2>/dev/null | head -5
  rm -rf "$work"
  mkdir -p "$work/crash"
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
  ) 2>&1 | tee "$OUT/ldd.txt"

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
    timeout --signal=QUIT --kill-after=15 "${DOCTOR_TIMEOUT:-180}" "$java" "${jopts[@]}" \
      -cp "$work/lib/*" dev.slingshot.examples.Slingshot doctor "$@"
  }

  : "=== 7. slingshot doctor with DJL's prebuilt $flavor JNI library"
  # shellcheck disable=SC2086
  doctor --device "$device" ${DOCTOR_ARGS:-} 2>&1 | tee "$OUT/smoke.txt"
  local rc=${PIPESTATUS[0]} rc2=-1
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
    ) 2>&1 | tee -a "$OUT/smoke.txt"
  fi

  if [ "$build" = always ] || { [ "$build" = auto ] && [ "$rc" != 0 ]; }; then
    : "=== 8. the JNI library rebuilt against this libtorch"
    local built="$work/jni-build/libdjl_torch.so"
    if [ -f "$here/jni-built/libdjl_torch.so" ]; then
      mkdir -p "$work/jni-build" && cp "$here/jni-built/libdjl_torch.so" "$built"
      echo "using the library brought in .gpu/jni-built/" | tee "$OUT/jni-build.log"
    elif [ -d "$work/jni-src" ]; then
      timeout --kill-after=10 "${BUILD_TIMEOUT:-360}" \
        bash "$here/build-jni.sh" "$work/jni-src" "$work/jni-build" 2>&1 | tee "$OUT/jni-build.log"
    else
      echo "no jni-src in the bundle (make-bundle.sh without DJL_SRC): cannot rebuild" | tee "$OUT/jni-build.log"
    fi
    if [ -f "$built" ]; then
      cp "$built" "$OUT/libdjl_torch.so"
      local sub="${jni#"$work/djl-cache/"}"
      [ -n "$jni" ] || sub="pytorch/2.7.1-$flavor-linux-x86_64/0.35.1-libdjl_torch.so"
      mkdir -p "$(dirname "$work/djl-cache-built/$sub")"
      cp "$built" "$work/djl-cache-built/$sub"
      (
        set +x
        echo
        echo "== $built (rebuilt)"
        ldd "$built"
        echo "-- undefined symbols (ldd -r): $(ldd -r "$built" 2>&1 | grep -c 'undefined symbol')"
        ldd -r "$built" 2>&1 | grep 'undefined symbol' | head -20
      ) 2>&1 | tee -a "$OUT/ldd.txt"
      # shellcheck disable=SC2086
      DJL_CACHE_DIR="$work/djl-cache-built" doctor --device "$device" ${DOCTOR_ARGS:-} 2>&1 |
        tee "$OUT/smoke-rebuilt.txt"
      rc2=${PIPESTATUS[0]}
      if [ "$rc2" -lt 124 ]; then
        : "bfloat16, in its own JVM: it aborts the JVM unless the library has the bf16 patch"
        DOCTOR_TIMEOUT=60 DJL_CACHE_DIR="$work/djl-cache-built" doctor --device "$device" --only bf16 2>&1 |
          grep -vE '^  |^(java|djl|engine|libtorch|capabilities|gpu count|cuda|default device|loaded native)' |
          tee -a "$OUT/smoke-rebuilt.txt"
        echo "bf16 check exit code ${PIPESTATUS[0]}" | tee -a "$OUT/smoke-rebuilt.txt"
      fi
    fi
  fi

  if [ -n "${THEN:-}" ]; then
    : "=== 8b. THEN: slingshot $THEN, with the JNI library that passed"
    local cache=""
    if [ "$rc" = 0 ]; then cache="$work/djl-cache"; elif [ "$rc2" = 0 ]; then cache="$work/djl-cache-built"; fi
    if [ -n "$cache" ]; then
      # shellcheck disable=SC2086
      DJL_CACHE_DIR="$cache" timeout --signal=QUIT --kill-after=15 "${THEN_TIMEOUT:-240}" \
        "$java" "${jopts[@]}" ${THEN_JAVA_OPTS:-} -cp "$work/lib/*" dev.slingshot.examples.Slingshot $THEN \
        2>&1 | tee "$OUT/then.txt"
      echo "THEN exit code ${PIPESTATUS[0]}" | tee -a "$OUT/then.txt"
    else
      echo "THEN skipped: no JNI library passed every check" | tee "$OUT/then.txt"
    fi
  fi

  if [ "${REFERENCE:-1}" = 1 ]; then
    : "=== 9. the same work in the machine's PyTorch"
    local tdev=cpu
    [ "$device" != cpu ] && tdev=cuda
    timeout 120 "$py" "$work/torch_mlp_reference.py" --device "$tdev" 2>&1 | tee "$OUT/torch-reference.txt"
  fi

  set +x
  echo
  echo "=== RESULT"
  echo "prebuilt $flavor JNI: doctor exit code $rc  (0 all passed, 1 a check failed, 2 engine not loaded, 127 symbol lookup error, 134 crash or abort, 137 timeout)"
  grep -hE '^\[(PASS|FAIL|SKIP)\]|^summary|^-> |lookup error|terminate called|A fatal error' "$OUT/smoke.txt" | cut -c1-200
  if [ "$rc2" != -1 ]; then
    echo "rebuilt JNI: doctor exit code $rc2"
    grep -hE '^\[(PASS|FAIL|SKIP)\]|^summary' "$OUT/smoke-rebuilt.txt" | cut -c1-200
  fi
  [ -f "$OUT/torch-reference.txt" ] && grep -h '^torch' "$OUT/torch-reference.txt"
  ls -la "$OUT"
  if [ "$rc" = 0 ] || [ "$rc2" = 0 ]; then return 0; fi
  return "$rc"
}

main "$@" 2>&1 | tee "$OUT/run.log"
exit "${PIPESTATUS[0]}"
