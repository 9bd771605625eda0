// spectral_norm_fused: the whole spectral-norm forward of one small weight W (OUT, IN) in one workgroup, the
// five dispatches of the multi-kernel path (spectral_norm_matvec.t, _normalize, _matvec, _normalize,
// _scale) as phases behind barriers, each computed as there (same per-lane strides, the same tree reduction
// at WG = 64), so the results are the same bits:
//   tmp = W^T u;  v = tmp / max(|tmp|, 1e-12);  tmp = W v;
//   UPDATE = 1: sigma = |tmp|, u = tmp / max(sigma, 1e-12)     UPDATE = 0: sigma = u . tmp (u kept)
//   scal[0] = sigma;  W_sn = W / sigma.
// A discriminator's weights are a few thousand values: five dispatches of ~0.1 ms each (their fixed cost on
// llvmpipe) did the work of one. spectral_norm.ts takes this kernel while one lane's loops stay small.
// Bindings: 0 w (OUT*IN) read; 1 u (OUT) read_write; 2 v (IN) write; 3 tmp (max(OUT, IN)) read_write;
//           4 scal (2) read_write [sigma, k]; 5 wsn (OUT*IN) write; 6 uniform { out: u32, in: u32 }.
// Dispatch: (1, 1, 1). WG must be a power of two.
override WG: u32 = 64;
override UPDATE: u32 = 1u;

struct Params { rows: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> u: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<storage, read_write> tmp: array<f32>;
@group(0) @binding(4) var<storage, read_write> scal: array<f32>;
@group(0) @binding(5) var<storage, read_write> wsn: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

// The sum of the lanes' values (the tree of spectral_norm_normalize); every lane gets it.
fn reduce(lid: u32, x: f32) -> f32 {
  part[lid] = x;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let total = part[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  // tmp = W^T u (each lane its columns; the loops of spectral_norm_matvec.t)
  for (var j = lid; j < p.cols; j += WG) {
    var acc = 0.0;
    for (var i = 0u; i < p.rows; i++) { acc += w[i * p.cols + j] * u[i]; }
    tmp[j] = acc;
  }
  storageBarrier();
  // v = tmp / |tmp| (each lane reads back only what it wrote, as normalize's strides match)
  var ss = 0.0;
  for (var j = lid; j < p.cols; j += WG) { ss += tmp[j] * tmp[j]; }
  let inv = 1.0 / max(sqrt(reduce(lid, ss)), 1e-12);
  for (var j = lid; j < p.cols; j += WG) { v[j] = tmp[j] * inv; }
  storageBarrier();
  // tmp = W v
  for (var i = lid; i < p.rows; i += WG) {
    var acc = 0.0;
    for (var j = 0u; j < p.cols; j++) { acc += w[i * p.cols + j] * v[j]; }
    tmp[i] = acc;
  }
  storageBarrier();
  var sigma: f32;
  if (UPDATE == 1u) {
    var s2 = 0.0;
    for (var i = lid; i < p.rows; i += WG) { s2 += tmp[i] * tmp[i]; }
    sigma = sqrt(reduce(lid, s2));
    let inv2 = 1.0 / max(sigma, 1e-12);
    for (var i = lid; i < p.rows; i += WG) { u[i] = tmp[i] * inv2; }
  } else {
    var d = 0.0;
    for (var i = lid; i < p.rows; i += WG) { d += u[i] * tmp[i]; }
    sigma = reduce(lid, d);
  }
  if (lid == 0u) { scal[0] = sigma; }
  for (var k = lid; k < p.rows * p.cols; k += WG) { wsn[k] = w[k] / sigma; }
}
