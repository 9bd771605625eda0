// global_avg_pool_fwd: global average pooling, y[n, c] = mean over (h, w) of x[n, c, h, w], i.e. the mean of
// each of the N*C planes of S = H*W values.
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C) write; 2 uniform { planes: u32 = N*C, s: u32 = H*W }.
// Dispatch: 1-D over planes, WG / LANES planes a workgroup, folded into 2-D by grid1d (flat group = x + y*nx).
// LANES invocations (a power of two dividing WG) share a plane: they stride over its S values and tree-reduce
// in workgroup memory. LANES = 1 is the naive variant: one invocation sums its plane serially, no barriers
// (fastest on llvmpipe, and for small planes anywhere); larger LANES suit big planes on real GPUs.
override WG: u32 = 64;
override LANES: u32 = 1u;

struct Params { planes: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let plane = (wid.x + wid.y * nwg.x) * (WG / LANES) + lid / LANES;
  let lane = lid % LANES;
  // No early return: every invocation must reach the barriers below (uniform control flow).
  let valid = plane < p.planes;
  var acc = 0.0;
  if (valid) {
    let base = plane * p.s;
    for (var j = lane; j < p.s; j += LANES) { acc += x[base + j]; }
  }
  if (LANES > 1u) {
    part[lid] = acc;
    workgroupBarrier();
    for (var h = LANES / 2u; h > 0u; h /= 2u) {
      if (lane < h) { part[lid] += part[lid + h]; }
      workgroupBarrier();
    }
    acc = part[lid];
  }
  if (valid && lane == 0u) { y[plane] = acc / f32(p.s); }
}
