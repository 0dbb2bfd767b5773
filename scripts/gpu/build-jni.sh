#!/usr/bin/env bash
# Rebuilds DJL's JNI library (libdjl_torch.so) against the libtorch of a pip-installed PyTorch:
# the fallback when DJL's prebuilt cu128 library does not link or run against that libtorch.
#
#   build-jni.sh JNI_SRC OUT_DIR
# JNI_SRC is the jni-src/ folder of the bundle made by make-bundle.sh with DJL_SRC set: DJL's
# native sources (engines/pytorch/pytorch-native/src/main/native), djl/utils.h, the JNI header
# generated from PyTorchLibrary.java, jni.h and jni_md.h. Writes OUT_DIR/libdjl_torch.so.
# Needs g++ (C++17 or newer) and the headers of the torch that $PYTHON (default python3) imports:
# pip wheels ship them in torch/include. CUDA headers come from the CUDA toolkit
# (torch.utils.cpp_extension.CUDA_HOME) when that torch has CUDA.
#
# What it does, like DJL's own build.sh + CMakeLists.txt, without CMake:
#   g++ -c each .cc with -D_GLIBCXX_USE_CXX11_ABI=<torch's> [-DUSE_CUDA] [-DV1_13_X for 1.13-2.1],
#   link with --no-as-needed against c10 [c10_cuda] torch_cpu [torch_cuda] torch, rpath $ORIGIN,
#   leaving the cuda* runtime symbols to be found through libtorch_cuda's own dependencies (as
#   DJL's build does by removing libcudart from the link line).
# PATCH_BF16=1 (default) adds bfloat16 (DJL DataType ordinal 11) to DJL's two dtype tables,
# which in DJL 0.35.1 stop at complex64 (8): without it toType(BFLOAT16) aborts the JVM.
# JOBS (default nproc) compiles in parallel; CXX (default g++); CXX_STD overrides -std;
# TORCH_CMAKE_DIR (default <torch>/share/cmake) is where the standard is read from.
set -euo pipefail
src="$(cd "${1:?JNI_SRC}" && pwd)"
out="${2:?OUT_DIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
py="${PYTHON:-python3}"
cxx="${CXX:-g++}"
jobs="${JOBS:-$(nproc)}"
work="$out/obj"
rm -rf "$work"
mkdir -p "$work"

eval "$("$py" - <<'EOF'
import os, shlex, torch
from torch.utils import cpp_extension as ce
cuda = torch.version.cuda is not None and torch.cuda.is_available() or (
    torch.version.cuda is not None
    and os.path.exists(os.path.join(os.path.dirname(torch.__file__), "lib", "libc10_cuda.so")))
try:
    inc = ce.include_paths(device_type="cuda" if cuda else "cpu")
except TypeError:  # torch < 2.5
    inc = ce.include_paths(cuda=cuda)
vals = {
    "TORCH_VERSION": torch.__version__,
    "TORCH_DIR": os.path.dirname(torch.__file__),
    "TORCH_CUDA": torch.version.cuda or "",
    "USE_CUDA": "1" if cuda else "",
    "CXX11_ABI": str(int(torch._C._GLIBCXX_USE_CXX11_ABI)),
    "TORCH_INCLUDES": " ".join("-I" + shlex.quote(p) for p in inc if os.path.isdir(p)),
}
# The CUDA headers ATen/cuda needs (cusparse.h, cublas_v2.h, ...) come from CUDA_HOME; pip's
# nvidia-* wheels carry copies, searched after it.
site = os.path.dirname(os.path.dirname(torch.__file__))
extra = []
for root, dirs, files in os.walk(os.path.join(site, "nvidia")):
    if os.path.basename(root) == "include":
        extra.append("-idirafter" + shlex.quote(root))
        dirs[:] = []
vals["TORCH_INCLUDES"] += "".join(" " + e for e in sorted(extra)) if cuda else ""
for k, v in vals.items():
    print(f"{k}={shlex.quote(v)}")
EOF
)"
torch_lib="$TORCH_DIR/lib"
std="${CXX_STD:-}"
if [ -z "$std" ]; then
  # The newest C++ standard torch's CMake package asks of its users (cxx_std_NN or
  # CXX_STANDARD NN; 2.14 asks for 20); 17 when it names none.
  n="$( (grep -rhoE 'cxx_std_[0-9]+|CXX_STANDARD +[0-9]+' "${TORCH_CMAKE_DIR:-$TORCH_DIR/share/cmake}" 2>/dev/null || true) |
    grep -oE '[0-9]+$' | sort -n | tail -1)"
  std="c++${n:-17}"
fi
defs=(-D_GLIBCXX_USE_CXX11_ABI="$CXX11_ABI")
libs=(-lc10 -ltorch_cpu -ltorch)
if [ -n "$USE_CUDA" ]; then
  defs+=(-DUSE_CUDA)
  libs=(-lc10 -lc10_cuda -ltorch_cpu -ltorch_cuda -ltorch)
fi
case "$TORCH_VERSION" in 1.13.*|2.0.*|2.1.*) defs+=(-DV1_13_X) ;; esac
echo "build-jni: torch $TORCH_VERSION (cuda ${TORCH_CUDA:-none}) at $TORCH_DIR; $($cxx --version | head -1); -std=$std ${defs[*]}"

# A private copy of the sources, patched for bfloat16 unless PATCH_BF16=0.
cp "$src"/native/* "$work/"
if [ "${PATCH_BF16:-1}" = "1" ]; then
  u="$work/djl_pytorch_utils.h"
  grep -q 'case 8:' "$u" || { echo "build-jni: unexpected djl_pytorch_utils.h, cannot patch" >&2; exit 1; }
  sed -i 's/^\(\s*\)case 8:$/\1case 11:\n\1  return torch::kBFloat16;\n\1case 8:/' "$u"
  sed -i 's/^\(\s*\)} else if (torch::kComplexFloat == type) {$/\1} else if (torch::kBFloat16 == type) {\n\1  return 11;\n\1} else if (torch::kComplexFloat == type) {/' "$u"
  [ "$(grep -c kBFloat16 "$u")" = "2" ] || { echo "build-jni: bfloat16 patch did not apply" >&2; exit 1; }
  echo "build-jni: patched djl_pytorch_utils.h for bfloat16 (DataType ordinal 11)"
fi

flags=(-O2 -fPIC -std="$std" -w "${defs[@]}" -I"$work" -I"$src/include" $TORCH_INCLUDES)
start=$SECONDS
# shellcheck disable=SC2016
ls "$work"/*.cc | xargs -P "$jobs" -I{} sh -c \
  'f="$1"; shift; "$@" -c "$f" -o "${f%.cc}.o" || { echo "build-jni: FAILED $f" >&2; exit 255; }' \
  _ {} "$cxx" "${flags[@]}"
echo "build-jni: compiled $(ls "$work"/*.o | wc -l) files in $((SECONDS - start)) s"
"$cxx" -shared -o "$out/libdjl_torch.so" "$work"/*.o -Wl,-soname,libdjl_torch.so \
  -Wl,--no-as-needed -L"$torch_lib" "${libs[@]}" -Wl,-rpath,'$ORIGIN'
natives="$(nm -D --defined-only "$out/libdjl_torch.so" | grep -c ' Java_ai_djl_pytorch_jni_PyTorchLibrary_' || true)"
expected="$(grep -c JNIEXPORT "$src/include/ai_djl_pytorch_jni_PyTorchLibrary.h")"
echo "build-jni: $out/libdjl_torch.so ($(du -k "$out/libdjl_torch.so" | cut -f1) KiB, $natives of $expected native methods) in $((SECONDS - start)) s"
[ "$natives" = "$expected" ] || { echo "build-jni: native methods missing" >&2; exit 1; }
rm -rf "$work"
