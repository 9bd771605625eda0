// noise_inject_bwd: ds[c] += sum over n, p of dy[n, c, p] * g(seed, (row0 + n) * P + p), the gradient of
// noise_inject_fwd's per-channel strength (its input gradient is dy itself). The noise is redrawn from the
// same hash, not stored.
// Bindings: 0 dy (N, C, P); 1 ds (C) read_write; 2 uniform { n, c, p, seed, row0: u32 }.
// Dispatch: (C, 1, 1) groups of WG lanes: lane l sums elements l, l + WG, ... of its channel (at most
// ceil(N * P / WG) loop iterations, far below llvmpipe's per-invocation cap for any batch here), then a tree
// reduction in workgroup memory. WG must be a power of two.
override WG: u32 = 64;

struct Params { n: u32, c: u32, p: u32, seed: u32, row0: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> ds: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

var<workgroup> part: array<f32, WG>;

fn pcg(x: u32) -> u32 {
  let t = x * 747796405u + 2891336453u;
  let w = ((t >> ((t >> 28u) + 4u)) ^ t) * 277803737u;
  return (w >> 22u) ^ w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let total = u.n * u.p;
  var acc = 0.0;
  for (var i = lid; i < total; i += WG) {
    let n = i / u.p;
    let px = i - n * u.p;
    let e = (u.row0 + n) * u.p + px;
    let a = pcg(u.seed ^ pcg(2u * e));
    let b = pcg(u.seed ^ pcg(2u * e + 1u));
    let u1 = (f32(a >> 8u) + 1.0) / 16777216.0;
    let u2 = f32(b >> 8u) / 16777216.0;
    let g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    acc += dy[(n * u.c + c) * u.p + px] * g;
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { part[lid] += part[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) { ds[c] += part[0]; }
}
