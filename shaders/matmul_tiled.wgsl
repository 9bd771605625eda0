// matmul_tiled: C (m, n) = op(A) op(B) (+ bias[j] if HAS_BIAS) (+ old C if ACCUMULATE), row-major, with
// the classic shared-memory tiling for real GPUs (variant "tiled"; llvmpipe prefers matmul_blocked).
// op(A) is A (m, k), or A^T for A stored (k, m) when TRANS_A = 1; op(B) is B (k, n), or B^T for B stored
// (n, k) when TRANS_B = 1.
// Tiling: a workgroup of (WG_X, WG_Y) invocations owns a (4 WG_Y) x (4 WG_X) tile of C; each invocation
// keeps 4 x 4 outputs in registers (rows 4 ly .. +3, columns 4 lx .. +3 of the tile). The reduction walks
// k in steps of BK: the workgroup stages a (4 WG_Y) x BK slab of op(A) and a BK x (4 WG_X) slab of op(B)
// in var<workgroup> arrays (as vec4 columns / rows, so the inner loop reads one vec4 of each per step),
// between two barriers. Global loads are scalar and coalesced: consecutive invocations read consecutive
// addresses along whichever dimension is contiguous in memory (TRANS_A / TRANS_B pick it), so any shape
// and alignment works. Staging arrays are padded by one vec4 a row against bank conflicts on the stores.
// Bindings: 0 a read; 1 b read; 2 bias (n) read (ignored unless HAS_BIAS); 3 c (m, n) read_write;
//           4 uniform { m: u32, n: u32, k: u32 }.
// Dispatch: (ceil(n / (4 WG_X)), ceil(m / (4 WG_Y)), 1) workgroups of (WG_X, WG_Y).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
override TRANS_A: u32 = 0u;
override TRANS_B: u32 = 0u;
override ACCUMULATE: u32 = 0u;
override HAS_BIAS: u32 = 0u;

struct Params { m: u32, n: u32, k: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// sa[l * (WG_Y + 1) + i4] = op(A)[row0 + 4 i4 .. +3, k0 + l]; sb[l * (WG_X + 1) + j4] = op(B)[k0 + l, col0 + 4 j4 .. +3]
var<workgroup> sa: array<vec4<f32>, BK * (WG_Y + 1u)>;
var<workgroup> sb: array<vec4<f32>, BK * (WG_X + 1u)>;

fn loadA(row: u32, l: u32) -> f32 {
  if (row >= p.m || l >= p.k) { return 0.0; }
  if (TRANS_A == 1u) { return a[l * p.m + row]; }
  return a[row * p.k + l];
}

fn loadB(l: u32, col: u32) -> f32 {
  if (l >= p.k || col >= p.n) { return 0.0; }
  if (TRANS_B == 1u) { return b[col * p.k + l]; }
  return b[l * p.n + col];
}

fn put(row: u32, col: u32, value: f32) {
  if (row >= p.m || col >= p.n) { return; }
  var v = value;
  if (HAS_BIAS == 1u) { v += bias[col]; }
  let o = row * p.n + col;
  if (ACCUMULATE == 1u) { v += c[o]; }
  c[o] = v;
}

fn putRow(row: u32, col: u32, v: vec4<f32>) {
  put(row, col, v.x);
  put(row, col + 1u, v.y);
  put(row, col + 2u, v.z);
  put(row, col + 3u, v.w);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let nt = WG_X * WG_Y;
  let tm = 4u * WG_Y;
  let tn = 4u * WG_X;
  let row0 = wid.y * tm;
  let col0 = wid.x * tn;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var k0 = 0u; k0 < p.k; k0 += BK) {
    // stage the A slab (tm x BK), walking the contiguous dimension fastest
    for (var e = li; e < tm * BK; e += nt) {
      var i: u32;
      var l: u32;
      if (TRANS_A == 1u) { i = e % tm; l = e / tm; } else { l = e % BK; i = e / BK; }
      sa[l * (WG_Y + 1u) + i / 4u][i % 4u] = loadA(row0 + i, k0 + l);
    }
    // and the B slab (BK x tn)
    for (var e = li; e < tn * BK; e += nt) {
      var j: u32;
      var l: u32;
      if (TRANS_B == 1u) { l = e % BK; j = e / BK; } else { j = e % tn; l = e / tn; }
      sb[l * (WG_X + 1u) + j / 4u][j % 4u] = loadB(k0 + l, col0 + j);
    }
    workgroupBarrier();
    for (var l = 0u; l < BK; l++) {
      let av = sa[l * (WG_Y + 1u) + lid.y];
      let bv = sb[l * (WG_X + 1u) + lid.x];
      acc0 = fma(vec4<f32>(av.x), bv, acc0);
      acc1 = fma(vec4<f32>(av.y), bv, acc1);
      acc2 = fma(vec4<f32>(av.z), bv, acc2);
      acc3 = fma(vec4<f32>(av.w), bv, acc3);
    }
    workgroupBarrier();
  }
  let r = row0 + 4u * lid.y;
  let cc = col0 + 4u * lid.x;
  putRow(r, cc, acc0);
  putRow(r + 1u, cc, acc1);
  putRow(r + 2u, cc, acc2);
  putRow(r + 3u, cc, acc3);
}
