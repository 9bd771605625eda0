// global_avg_pool_fwd: global average pooling, y[n, c] = mean over (h, w) of x[n, c, h, w], i.e. the mean of
// each of the N*C planes of S = H*W values.
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C) write; 2 uniform { planes: u32 = N*C, s: u32 = H*W }.
// Dispatch: one workgroup per plane (grid1d over N*C; flat group = x + y*nx). The WG invocations stride over
// the plane's S values and tree-reduce in workgroup memory. WG = 1 is the naive variant (one invocation sums
// its plane serially). WG must be a power of two.
override WG: u32 = 64;

struct Params { planes: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let plane = wid.x + wid.y * nwg.x;
  // The whole workgroup leaves together (plane is uniform), so the barriers below stay in uniform control flow.
  if (plane >= p.planes) { return; }
  let base = plane * p.s;
  var acc = 0.0;
  for (var j = lid; j < p.s; j += WG) { acc += x[base + j]; }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { y[plane] = part[0] / f32(p.s); }
}
