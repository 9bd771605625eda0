// lse_pool_fwd: log-sum-exp pooling of each (n, c) plane, a smooth maximum over its S = H*W values:
// y[n, c] = m + log(mean_j exp(R (x_j - m))) / R with m = max_j x_j (subtracted for range only).
// R -> 0 gives the mean, R -> infinity the maximum.
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C) write; 2 uniform { planes: u32 = N*C, s: u32 = H*W }.
// Dispatch: 1-D over planes, WG planes a workgroup (one invocation sums its plane serially: the planes are
// 8x8 or 16x16), folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 64;
override R: f32 = 4.0;

struct Params { planes: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let plane = (wid.x + wid.y * nwg.x) * WG + lid;
  if (plane >= p.planes) { return; }
  let base = plane * p.s;
  var m = x[base];
  for (var j = 1u; j < p.s; j++) { m = max(m, x[base + j]); }
  var acc = 0.0;
  for (var j = 0u; j < p.s; j++) { acc += exp(R * (x[base + j] - m)); }
  y[plane] = m + log(acc / f32(p.s)) / R;
}
