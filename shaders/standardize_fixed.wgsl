// standardize_fixed: per-feature standardisation with statistics taken elsewhere (another batch's
// [mean | 1/std], e.g. batch_norm_fwd's `saved`), and its backward, which is the same map without the shift
// since the statistics are constants here: CENTER = 1: y = (x - mean[c]) * invstd[c];
// CENTER = 0: y = x * invstd[c] (dx from dy).
// Bindings: 0 x (N*C*S) read; 1 stats (2*C) read [mean | invstd]; 2 y (N*C*S) write;
//           3 uniform { total: u32 = N*C*S, c: u32, s: u32 }.
// Dispatch: 1-D over N*C*S elements, WG a group, folded by grid1d. Elementwise: one variant only.
override WG: u32 = 256;
override CENTER: u32 = 1u;

struct Params { total: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> stats: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let c = (i / p.s) % p.c;
  var v = x[i];
  if (CENTER == 1u) { v -= stats[c]; }
  y[i] = v * stats[p.c + c];
}
