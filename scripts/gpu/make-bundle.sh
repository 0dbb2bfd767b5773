#!/usr/bin/env bash
# Makes the bundle that runs slingshot on a GPU machine that has no Java, no network and a pip
# PyTorch (torch/lib in its site-packages), e.g. the lent H100/H200 (see scripts/gpu/README.md).
#
# Run from the repository root after `./mvnw -B -o -q package -DskipTests`:
#   scripts/gpu/make-bundle.sh [BUNDLE_DIR]            (default: .gpu)
# Environment:
#   JAVA_HOME  a JDK 17 with jmods (default: the one `javac` belongs to)
#   DJL_SRC    a checkout of DJL at the tag matching the pytorch-engine jar (v0.35.1), e.g.
#              git clone --depth 1 -b v0.35.1 https://github.com/deepjavalibrary/djl
#              Optional: with it the bundle also carries DJL's JNI sources, so that
#              build-jni.sh can rebuild libdjl_torch.so against the GPU machine's own libtorch.
#   JNI_SRC    instead of DJL_SRC: the jni-src/ folder of an earlier bundle (tar -xJf
#              .gpu/slingshot-gpu.tar.xz jni-src), taken as it is
#   MAX_MIB    fail if BUNDLE_DIR is larger (default 55)
#
# BUNDLE_DIR then holds (everything else is inside the archive, unpacked there by the runner):
#   run-on-device.sh, build-jni.sh, measure-all.sh, compare_probe_routes.py, transformer_speed.py
#                                   the scripts, copied from scripts/gpu/ and scripts/bench/
#   slingshot-gpu.tar.xz            jre/ (jlink'd JRE 17, stripped), lib/ (slingshot-examples.jar and its
#                                   runtime jars, without pytorch-native-cpu), djl-cache/ (DJL's
#                                   cu128 JNI library, pre-extracted where DJL looks for it),
#                                   jni-src/ (with DJL_SRC or JNI_SRC), torch_mlp_reference.py
#   MANIFEST.txt                    versions, module list, file sizes and checksums
# An archive, not a directory: it keeps file modes and links, and is less than half the size.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bundle="${1:-$root/.gpu}"
mkdir -p "$bundle"
bundle="$(cd "$bundle" && pwd)"
max_mib="${MAX_MIB:-55}"
examples="$root/slingshot-examples/target"
jar="$examples/slingshot-examples.jar"
if [ ! -f "$jar" ] || [ ! -d "$examples/lib" ]; then
  echo "make-bundle: $jar or $examples/lib missing; run ./mvnw -B -o -q package -DskipTests first" >&2
  exit 1
fi
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"
fi
for tool in jlink jdeps; do
  [ -x "$JAVA_HOME/bin/$tool" ] || { echo "make-bundle: no $tool in JAVA_HOME=$JAVA_HOME" >&2; exit 1; }
done
jv="$("$JAVA_HOME/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "$jv" = "17" ] || { echo "make-bundle: JAVA_HOME=$JAVA_HOME is Java $jv, need 17" >&2; exit 1; }

stage="$(mktemp -d "${TMPDIR:-/tmp}/slingshot-gpu.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
echo "make-bundle: staging in $stage"

# 1. The jars: the launcher jar and its runtime class path, without the 111 MB CPU libtorch.
mkdir -p "$stage/lib"
cp "$jar" "$stage/lib/"
for f in "$examples"/lib/*.jar; do
  case "$(basename "$f")" in
    pytorch-native-*) echo "make-bundle: leaving out $(basename "$f") ($(du -m "$f" | cut -f1) MB, CPU-only libtorch)" ;;
    *) cp "$f" "$stage/lib/" ;;
  esac
done
engine_jar="$(ls "$stage"/lib/pytorch-engine-*.jar)"
jni_jar="$(ls "$stage"/lib/pytorch-jni-*.jar)"
props="$(unzip -p "$engine_jar" pytorch-engine.properties)"
djl_version="$(sed -n 's/^djl_version=//p' <<<"$props")"
torch_version="$(sed -n 's/^pytorch_version=//p' <<<"$props")"
jni_version="$(unzip -p "$jni_jar" jnilib/pytorch.properties | sed -n 's/^jni_version=//p')"
echo "make-bundle: DJL $djl_version, PyTorch JNI $jni_version (built for libtorch $torch_version)"

# 2. The JRE: the modules the jars use (jdeps over their classes; module-info.class removed, since
# commons-compress's descriptor requires a module that is not there), plus jdk.unsupported (JNA).
classes="$stage/.classes"
for f in "$stage"/lib/*.jar; do
  d="$classes/$(basename "$f" .jar)"
  mkdir -p "$d"
  (cd "$d" && unzip -q -o "$f" '*.class' 2>/dev/null || true)
  find "$d" -name module-info.class -delete
done
modules="$("$JAVA_HOME/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 \
  "$classes"/*/ | tail -1)"
modules="$modules,jdk.unsupported"
rm -rf "$classes"
echo "make-bundle: jlink modules: $modules"
# --compress=0: the archive is xz'd, and xz packs the uncompressed module image far better
# (the bundle is 11 MiB smaller than with jlink's --compress=2).
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --compress=0 --output "$stage/jre"
if command -v strip >/dev/null; then
  find "$stage/jre" -name '*.so' -exec strip --strip-unneeded {} +
fi
# Links inside legal/ become copies (a carried link travels as a link).
find "$stage/jre" -type l | while read -r l; do cp --remove-destination "$(readlink -f "$l")" "$l"; done

# 3. DJL's CUDA JNI library where LibUtils.findJniLibrary looks before extracting or downloading:
# $DJL_CACHE_DIR/pytorch/<pytorch_version>-<PYTORCH_FLAVOR>-<classifier>/<djl_version>-libdjl_torch.so
cache="$stage/djl-cache/pytorch/$torch_version-cu128-linux-x86_64"
mkdir -p "$cache"
unzip -p "$jni_jar" jnilib/linux-x86_64/cu128/libdjl_torch.so >"$cache/$djl_version-libdjl_torch.so"

# 4. Optional: DJL's JNI sources, the JNI header generated from PyTorchLibrary.java, and jni.h,
# for build-jni.sh (rebuilds libdjl_torch.so against the GPU machine's libtorch).
if [ -n "${DJL_SRC:-}" ]; then
  src="$stage/jni-src"
  mkdir -p "$src/native" "$src/include/djl"
  cp "$DJL_SRC"/engines/pytorch/pytorch-native/src/main/native/* "$src/native/"
  cp "$DJL_SRC"/api/src/main/native/djl/utils.h "$src/include/djl/"
  cp "$DJL_SRC"/LICENSE "$src/LICENSE-DJL"
  cp "$JAVA_HOME"/include/jni.h "$JAVA_HOME"/include/linux/jni_md.h "$src/include/"
  "$JAVA_HOME/bin/javac" -h "$src/include" -d "$stage/.javac" -cp "$stage/lib/*" \
    "$DJL_SRC"/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java
  rm -rf "$stage/.javac"
  header_natives="$(grep -c JNIEXPORT "$src/include/ai_djl_pytorch_jni_PyTorchLibrary.h")"
  jar_natives="$("$JAVA_HOME/bin/javap" -p -cp "$engine_jar" ai.djl.pytorch.jni.PyTorchLibrary | grep -c ' native ')"
  if [ "$header_natives" != "$jar_natives" ]; then
    echo "make-bundle: DJL_SRC declares $header_natives natives, the jar $jar_natives: wrong tag?" >&2
    exit 1
  fi
  echo "$djl_version" >"$src/DJL_VERSION"
  echo "make-bundle: JNI sources from $DJL_SRC ($header_natives native methods)"
elif [ -n "${JNI_SRC:-}" ]; then
  if [ ! -f "$JNI_SRC/DJL_VERSION" ] || [ "$(cat "$JNI_SRC/DJL_VERSION")" != "$djl_version" ]; then
    echo "make-bundle: JNI_SRC=$JNI_SRC is not the jni-src/ of a bundle for DJL $djl_version" >&2
    exit 1
  fi
  cp -r "$JNI_SRC" "$stage/jni-src"
  echo "make-bundle: JNI sources from $JNI_SRC (an earlier bundle's)"
else
  echo "make-bundle: DJL_SRC not set: no JNI sources, build-jni.sh will not be possible there"
fi
cp "$root/scripts/gpu/torch_mlp_reference.py" "$stage/"

# 5. Pack, copy the scripts beside the archive, write the manifest.
# Everything of an earlier bundle goes, except jni-built/ (a JNI library rebuilt on the device).
find "$bundle" -mindepth 1 -maxdepth 1 -not -name jni-built -exec rm -rf {} +
tar -C "$stage" -cf - jre lib djl-cache $( [ -d "$stage/jni-src" ] && echo jni-src ) \
  torch_mlp_reference.py | xz -T0 -6 >"$bundle/slingshot-gpu.tar.xz"
cp "$root/scripts/gpu/run-on-device.sh" "$root/scripts/gpu/build-jni.sh" "$root/scripts/gpu/measure-all.sh" \
  "$root/scripts/gpu/compare_probe_routes.py" \
  "$root/scripts/bench/transformer_speed.py" "$bundle/"
chmod +x "$bundle"/*.sh
{
  echo "slingshot GPU bundle, made $(date -u +%FT%TZ) by scripts/gpu/make-bundle.sh"
  echo "git: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (dirty)')"
  echo "djl_version=$djl_version pytorch_version=$torch_version jni_version=$jni_version"
  echo "jre: $("$stage/jre/bin/java" -version 2>&1 | head -1); modules: $modules"
  echo "unpacked size: $(du -sm "$stage" | cut -f1) MiB (jre $(du -sm "$stage/jre" | cut -f1), lib $(du -sm "$stage/lib" | cut -f1))"
  echo
  (cd "$stage" && find . -type f -not -path './jre/*' -printf '%P\t%s\n' | sort)
  echo
  (cd "$stage" && sha256sum lib/*.jar djl-cache/pytorch/*/*)
} >"$bundle/MANIFEST.txt"

size_kib="$(du -sk "$bundle" | cut -f1)"
echo "make-bundle: $bundle: $(ls "$bundle" | tr '\n' ' ')"
echo "make-bundle: size $((size_kib / 1024)) MiB ($size_kib KiB) packed, $(du -sm "$stage" | cut -f1) MiB unpacked"
if [ "$size_kib" -gt $((max_mib * 1024)) ]; then
  echo "make-bundle: larger than $max_mib MiB" >&2
  exit 1
fi
