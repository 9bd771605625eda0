// spectral_norm_matvec: one half of a power-iteration step on W (OUT, IN), row-major:
//   TRANSPOSE = 1: yv[j] = sum_i W[i, j] xv[i]  (j < IN)    TRANSPOSE = 0: yv[i] = sum_j W[i, j] xv[j]  (i < OUT)
// Bindings: 0 w (OUT*IN) read; 1 xv (OUT or IN) read; 2 yv (IN or OUT) write; 3 uniform { out: u32, in: u32 }.
// Dispatch: 1-D, one invocation per output value, WG a group, folded by grid1d. Small (a few MFLOP per step):
// one variant only.
override WG: u32 = 64;
override TRANSPOSE: u32 = 0u;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> xv: array<f32>;
@group(0) @binding(2) var<storage, read_write> yv: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  var acc = 0.0;
  if (TRANSPOSE == 1u) {
    if (t >= p.cols) { return; }
    for (var i = 0u; i < p.rows; i++) { acc += w[i * p.cols + t] * xv[i]; }
  } else {
    if (t >= p.rows) { return; }
    for (var j = 0u; j < p.cols; j++) { acc += w[t * p.cols + j] * xv[j]; }
  }
  yv[t] = acc;
}
