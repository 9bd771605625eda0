// fma_peak: the adapter's arithmetic ceiling for code shaped like this engine's kernels: each invocation
// runs 8 independent vec4 fused multiply-add chains in registers for 4 * iters steps and writes one
// float, so nothing but the FMAs (and the loop) costs time. Its GFLOP/s bound what any kernel here can
// reach on the adapter; the benchmark reports it as the "fma_peak" row, beside the real kernels.
// The chains converge (multiplier < 1), so no value overflows or turns denormal however long it runs.
// Bindings: 0 out (invocations) read_write; 1 uniform { iters: u32 }.
// Dispatch: (ceil(invocations / WG), 1, 1) workgroups of WG; work = invocations * iters * 128 FMAs.
override WG: u32 = 64u;

struct Params { iters: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  // Seeds depend on the invocation so the compiler cannot fold the chains away.
  let s = f32(gid.x % 97u) * 0.001;
  let m = vec4<f32>(0.999, 0.998, 0.997, 0.996);
  let d = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var a0 = d;
  var a1 = d * 2.0;
  var a2 = d * 3.0;
  var a3 = d * 4.0;
  var a4 = d * 5.0;
  var a5 = d * 6.0;
  var a6 = d * 7.0;
  var a7 = d * 8.0;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, d);
    a1 = fma(a1, m, d);
    a2 = fma(a2, m, d);
    a3 = fma(a3, m, d);
    a4 = fma(a4, m, d);
    a5 = fma(a5, m, d);
    a6 = fma(a6, m, d);
    a7 = fma(a7, m, d);
    a0 = fma(a0, m, d);
    a1 = fma(a1, m, d);
    a2 = fma(a2, m, d);
    a3 = fma(a3, m, d);
    a4 = fma(a4, m, d);
    a5 = fma(a5, m, d);
    a6 = fma(a6, m, d);
    a7 = fma(a7, m, d);
    a0 = fma(a0, m, d);
    a1 = fma(a1, m, d);
    a2 = fma(a2, m, d);
    a3 = fma(a3, m, d);
    a4 = fma(a4, m, d);
    a5 = fma(a5, m, d);
    a6 = fma(a6, m, d);
    a7 = fma(a7, m, d);
    a0 = fma(a0, m, d);
    a1 = fma(a1, m, d);
    a2 = fma(a2, m, d);
    a3 = fma(a3, m, d);
    a4 = fma(a4, m, d);
    a5 = fma(a5, m, d);
    a6 = fma(a6, m, d);
    a7 = fma(a7, m, d);
  }
  let t = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  out[gid.x] = t.x + t.y + t.z + t.w;
}
