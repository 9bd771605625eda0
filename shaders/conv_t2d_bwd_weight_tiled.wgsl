// conv_t2d_bwd_weight_tiled: gradient of a transposed 2-D convolution wrt its weight as a GEMM reduction
// over the batch's pixels with shared-memory tiles and split-K (variant "tiled", for real GPUs):
// dw[ci, co, ky, kx] += sum over n, iy, ix of x[n, ci, iy, ix] * dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx]
// (terms outside dy are zero). As a GEMM: C (Cin, Q) = X (Cin, P) D (P, Q) with P = N * H * W pixels,
// Q = Cout * K * K, X[ci, (n, pix)] = x[n, ci, pix], D[(n, iy, ix), (co, ky, kx)] = dy[n, co, oy, ox];
// dw viewed as (Cin, Q) row-major is C.
// Split-K: grid layer z reduces pixels [z * SPAN, (z + 1) * SPAN) (SPAN = `span`, a multiple of BK). With
// ACCUMULATE = 1 (one layer) it adds into dw; with ACCUMULATE = 0 it writes its partial sum to
// out[z * Cin * Q + ...] for conv_t2d_reduce to add up.
// Shapes: x (N, Cin, H, W); dy (N, Cout, Ho, Wo); out = dw (Cin, Cout, K, K) or partials (S, Cin, Cout, K, K).
// Tiling as matmul_tiled: a (WG_X, WG_Y) workgroup owns 4 WG_Y input channels x 4 WG_X (co, tap) columns,
// each invocation 4 x 4 in registers; pixels are staged BK at a time through var<workgroup> vec4 arrays;
// both operands load along the pixels (contiguous in x, stride-spaced in dy).
// Bindings: 0 x read; 1 dy read; 2 out read_write;
//           3 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo, span: u32 }.
// Dispatch: (ceil(Q / (4 WG_X)), ceil(Cin / (4 WG_Y)), S) workgroups of (WG_X, WG_Y).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
override ACCUMULATE: u32 = 1u;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32, span: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> sa: array<vec4<f32>, BK * (WG_Y + 1u)>;
var<workgroup> sb: array<vec4<f32>, BK * (WG_X + 1u)>;

// X[ci, q] for pixel q < end
fn loadX(ci: u32, q: u32, end: u32) -> f32 {
  if (ci >= p.cin || q >= end) { return 0.0; }
  let hw = p.h * p.w;
  return x[((q / hw) * p.cin + ci) * hw + q % hw];
}

// D[q, c] for pixel q < end, column c = (co, ky, kx)
fn loadD(q: u32, end: u32, c: u32, nc: u32) -> f32 {
  if (q >= end || c >= nc) { return 0.0; }
  let kk = p.k * p.k;
  let co = c / kk;
  let t = c % kk;
  let hw = p.h * p.w;
  let pix = q % hw;
  let oy = i32((pix / p.w) * p.stride + t / p.k) - i32(p.pad);
  let ox = i32((pix % p.w) * p.stride + t % p.k) - i32(p.pad);
  if (oy < 0 || ox < 0 || oy >= i32(p.ho) || ox >= i32(p.wo)) { return 0.0; }
  return dy[(((q / hw) * p.cout + co) * p.ho + u32(oy)) * p.wo + u32(ox)];
}

fn putRow(base: u32, ci: u32, c: u32, nc: u32, v: vec4<f32>) {
  if (ci >= p.cin) { return; }
  let o = base + ci * nc + c;
  if (ACCUMULATE == 1u) {
    if (c < nc) { out[o] += v.x; }
    if (c + 1u < nc) { out[o + 1u] += v.y; }
    if (c + 2u < nc) { out[o + 2u] += v.z; }
    if (c + 3u < nc) { out[o + 3u] += v.w; }
  } else {
    if (c < nc) { out[o] = v.x; }
    if (c + 1u < nc) { out[o + 1u] = v.y; }
    if (c + 2u < nc) { out[o + 2u] = v.z; }
    if (c + 3u < nc) { out[o + 3u] = v.w; }
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let nc = p.cout * p.k * p.k;
  let begin = wid.z * p.span;
  let end = min(begin + p.span, p.n * p.h * p.w);
  let nt = WG_X * WG_Y;
  let tm = 4u * WG_Y;
  let tn = 4u * WG_X;
  let row0 = wid.y * tm;
  let col0 = wid.x * tn;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var k0 = begin; k0 < end; k0 += BK) {
    for (var e = li; e < tm * BK; e += nt) {
      let l = e % BK;
      let i = e / BK;
      sa[l * (WG_Y + 1u) + i / 4u][i % 4u] = loadX(row0 + i, k0 + l, end);
    }
    for (var e = li; e < tn * BK; e += nt) {
      let l = e % BK;
      let j = e / BK;
      sb[l * (WG_X + 1u) + j / 4u][j % 4u] = loadD(k0 + l, end, col0 + j, nc);
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
  let base = select(wid.z * p.cin * nc, 0u, ACCUMULATE == 1u);
  let ci = row0 + 4u * lid.y;
  let c = col0 + 4u * lid.x;
  putRow(base, ci, c, nc, acc0);
  putRow(base, ci + 1u, c, nc, acc1);
  putRow(base, ci + 2u, c, nc, acc2);
  putRow(base, ci + 3u, c, nc, acc3);
}
