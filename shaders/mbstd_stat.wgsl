// mbstd_stat: minibatch standard deviation statistic (StyleGAN, one statistic channel). x (N, C, S) is split
// into M = N / G groups, group m holding the G samples n = i*M + m (i < G), as StyleGAN's reshape(G, M, ...)
// does. For every (c, s): sd = sqrt(mean_i (x[i*M+m, c, s] - mu)^2 + EPS) (biased variance over the group);
// stat[m] = mean over (c, s) of sd. Writes saved[m] = stat[m] (saved[M + m] is mbstd_dstat's).
// Bindings: 0 x (N*C*S) read; 1 saved (2*M) write; 2 uniform { m: u32, cs: u32 = C*S }.
// Dispatch: one workgroup per group m (grid1d); WG invocations stride over the C*S positions and tree-reduce
// in workgroup memory. WG = 1 is the naive variant. WG must be a power of two. The group size G is an
// override constant: with G read from the uniform, the loops over the group nested in the loop over positions
// ran ~20x slower on llvmpipe (2.5 ms instead of 0.12 ms a dispatch at (16, 64, 4, 4)).
override WG: u32 = 64;
override G: u32 = 4u;
override EPS: f32 = 1e-8;

struct Params { m: u32, cs: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> saved: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let m = wid.x + wid.y * nwg.x;
  if (m >= p.m) { return; }
  let fg = f32(G);
  var acc = 0.0;
  for (var j = lid; j < p.cs; j += WG) {
    var mu = 0.0;
    for (var i = 0u; i < G; i++) { mu += x[(i * p.m + m) * p.cs + j]; }
    mu /= fg;
    var v = 0.0;
    for (var i = 0u; i < G; i++) {
      let d = x[(i * p.m + m) * p.cs + j] - mu;
      v += d * d;
    }
    acc += sqrt(v / fg + EPS);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { saved[m] = part[0] / f32(p.cs); }
}
