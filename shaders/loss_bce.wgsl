// loss_bce: class-weighted multi-label binary cross-entropy on logits z (N, L) with targets y (N, L):
//   loss = sum_i m_i * (wpos[l] * y * softplus(-z) + wneg[l] * (1 - y) * softplus(z)) / D
// (softplus(-z) = -log sigmoid(z), softplus(z) = -log(1 - sigmoid(z)): the numerically stable form),
// l = i mod L, m_i = mask[i] and D = sum of the mask (HAS_MASK = 1), else m_i = 1 and D = N*L; D = 0 gives 0.
// Writes dz[i] = scale * m_i * (wneg[l] (1 - y) sigmoid(z) - wpos[l] y sigmoid(-z)) / D (=), and the UNSCALED
// loss into lossOut[slot] (= or += when accumulate = 1).
// Bindings: 0 z (N*L) read; 1 y (N*L) read; 2 wpos (L) read; 3 wneg (L) read; 4 mask (N*L) read (bound to y
//           when HAS_MASK = 0); 5 dz (N*L) read_write; 6 lossOut (>= slot+1) read_write;
//           7 uniform { total: u32 = N*L, l: u32, slot: u32, accumulate: u32, scale: f32 }.
// Dispatch: ONE workgroup of WG (a power of two) invocations striding over N*L, then a tree reduction in
// workgroup memory (N*L is at most a few thousand: one group is plenty and keeps the sum deterministic).
override WG: u32 = 256;
override HAS_MASK: u32 = 0u;

struct Params { total: u32, l: u32, slot: u32, accumulate: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> wpos: array<f32>;
@group(0) @binding(3) var<storage, read> wneg: array<f32>;
@group(0) @binding(4) var<storage, read> mask: array<f32>;
@group(0) @binding(5) var<storage, read_write> dz: array<f32>;
@group(0) @binding(6) var<storage, read_write> lossOut: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

fn softplus(x: f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }

// exp of a non-positive number only, so neither branch overflows
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

fn wgSum(lid: u32, v: f32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let s = part[0];
  workgroupBarrier();
  return s;
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var denom = f32(p.total);
  if (HAS_MASK == 1u) {
    var ms = 0.0;
    for (var i = lid; i < p.total; i += WG) { ms += mask[i]; }
    denom = wgSum(lid, ms);
  }
  let inv = select(0.0, 1.0 / denom, denom != 0.0);
  var acc = 0.0;
  for (var i = lid; i < p.total; i += WG) {
    let zi = z[i];
    let yi = y[i];
    let c = i % p.l;
    var mi = 1.0;
    if (HAS_MASK == 1u) { mi = mask[i]; }
    let a = mi * wpos[c] * yi;
    let b = mi * wneg[c] * (1.0 - yi);
    acc += a * softplus(-zi) + b * softplus(zi);
    dz[i] = p.scale * inv * (b * sigmoid(zi) - a * sigmoid(-zi));
  }
  let total = wgSum(lid, acc);
  if (lid == 0u) {
    let loss = total * inv;
    if (p.accumulate == 1u) { lossOut[p.slot] += loss; } else { lossOut[p.slot] = loss; }
  }
}
