// spectral_norm_normalize: one workgroup finishing a power-iteration half step on a vector t of length L:
//   DOT = 0: outv = t / max(|t|, 1e-12) and scal[0] = |t|   (|W v| is sigma once u = W v / |W v|)
//   DOT = 1: scal[0] = sum_i other[i] * t[i]                 (sigma = u . W v with u kept, no update)
// Bindings: 0 t (L) read; 1 other (L) read (any readable buffer when DOT = 0);
//           2 outv (L) write (DOT = 1: any buffer bound nowhere else); 3 scal (2) read_write [sigma, k];
//           4 uniform { len: u32 }.
// Dispatch: (1, 1, 1); WG invocations stride over L and tree-reduce in workgroup memory. WG = 1 is the naive
// variant. WG must be a power of two.
override WG: u32 = 64;
override DOT: u32 = 0u;

struct Params { len: u32 }

@group(0) @binding(0) var<storage, read> t: array<f32>;
@group(0) @binding(1) var<storage, read> other: array<f32>;
@group(0) @binding(2) var<storage, read_write> outv: array<f32>;
@group(0) @binding(3) var<storage, read_write> scal: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p.len; i += WG) {
    if (DOT == 1u) { acc += other[i] * t[i]; } else { acc += t[i] * t[i]; }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let total = part[0];
  if (DOT == 1u) {
    if (lid == 0u) { scal[0] = total; }
    return;
  }
  let nrm = sqrt(total);
  let inv = 1.0 / max(nrm, 1e-12);
  for (var i = lid; i < p.len; i += WG) { outv[i] = t[i] * inv; }
  if (lid == 0u) { scal[0] = nrm; }
}
