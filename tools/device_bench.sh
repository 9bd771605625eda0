#!/usr/bin/env bash
# Runs the kernel benchmark on a lent GPU machine that has no network: Deno (xz), the bundled bench
# (`deno bundle --platform deno -o .dev/bench.js src/cli/bench.ts`), tfjs-wasm's .wasm files and
# Vulkan loader .debs travel in the ignored folders .dev/ and .gl/. Writes $OUT/bench.json and a log.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
xz -dc .dev/deno.xz >/tmp/deno && chmod +x /tmp/deno
export XDG_RUNTIME_DIR=/tmp/xdg
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
nvidia-smi -L || true
probe='const a = await navigator.gpu.requestAdapter({powerPreference: "high-performance"}); console.log(JSON.stringify(a ? {...a.info, fallback: a.info?.isFallbackAdapter} : null));'
adapter=$(/tmp/deno eval --unstable-webgpu "$probe" 2>&1 | tail -1)
echo "adapter: $adapter"
case "$adapter" in
  *null* | *llvmpipe* | "")
    export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
    adapter=$(/tmp/deno eval --unstable-webgpu "$probe" 2>&1 | tail -1)
    echo "adapter (nvidia icd): $adapter"
    ;;
esac
set -o pipefail
/tmp/deno run -A --unstable-webgpu .dev/bench.js --no-data --impl "${IMPLS:-medsynth,tfjs-webgpu,tfjs-wasm}" \
  --wasm-dir .dev/wasm --samples "${SAMPLES:-5}" --out "$OUT/bench.json" "$@" 2>&1 | tee "$OUT/bench.log"
