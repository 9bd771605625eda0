// conv2d_fwd_gemm: y = conv2d(x, w) + b (then optionally leaky ReLU) as an implicit GEMM tuned for llvmpipe (also runs the input gradient:
// a stride-1 conv of the zero-dilated, padded dy with flipped weights). Each invocation keeps 16 output
// channels x 16 output pixels in registers (16 rows of 4 vec4s: 4 quads of 4 consecutive pixels along a row;
// the quads are consecutive in the flat (n, oy, quad) order, so narrow images waste nothing). x comes
// pre-padded (conv2d_pack_x), so every tap is an unmasked textureLoad: per (ci, kh) a quad reads 2 texels
// (stride 1) or 3 (stride 2) and reuses them for all K taps kw (constant shifts of an unrolled segment);
// per tap 4 texels of weights (16 channels; lane-uniform storage-texture fetches, which llvmpipe runs ~2x
// faster than uniform-buffer loads of the same vec4s) feed 64 vec4 FMAs, and each output vec4 takes all K
// taps of a (ci, kh) in one FMA chain. Why this shape: on llvmpipe a texel fetch costs far more than an
// FMA, loops cost ~11 ns an iteration and dynamically indexed registers spill, so the tile is big, all tile
// indices are constants, the kw taps are unrolled (guarded by the override K; written out: the same code
// through small helper functions ran ~5% slower), and the tile, which does not fit in registers, is loaded
// and stored once per (ci, kh) rather than once per tap.
// Bindings: 0 xt texture_storage_2d<rgba32float, read> (conv2d_pack_x of x, planes (n, ci) of hp x 4*wp4, folded
//             every 8192 rows); 1 wt texture_storage_2d<rgba32float, read> (conv2d_pack_w): texel (c4, r) =
//             w[4c4 .. 4c4 + 3, r / K^2, tap r % K^2] for rows r = (ci, kh, kw), zero past Cout;
//           2 b (Cout) read (HAS_BIAS = 0 ignores it); 3 y (N, Cout, Ho, Wo) read_write; 4 uniform Params
//             (total = nb*Ho*wq quads of this batch chunk, wq = ceil(Wo / 4) quads a row, n0 = the chunk's
//             first image, cb = the block of CH output channels).
// Dispatch: (gx, gy, 1): gx*gy >= ceil(total / (4 WG)) groups folded by grid1d (flat = x + y*nx); one
//           dispatch per (batch chunk, CH output channels).
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;
override HAS_BIAS: u32 = 1u;
// Output channels an invocation computes: 16, or 8 / 4 for convs with at most that many (half or a quarter of
// the tile's FMAs and weight fetches: the classifier's growth-8 dense layers and the GAN's 8-channel 32 px
// layers computed 8 zero channels of every 16 before).
override CH: u32 = 16u;
// LEAKY = 1 applies the leaky ReLU (slope SLOPE) after the bias, as bias_act_fwd would in a pass of its own
// (the discriminator's conv + leaky pairs: one pass over the activations less).
override LEAKY: u32 = 0u;
override SLOPE: f32 = 0.2;

struct Params { cin: u32, cout: u32, ho: u32, wo: u32, wq: u32, hp: u32, wp4: u32, total: u32, n0: u32, cb: u32 }

@group(0) @binding(0) var xt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var wt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

alias Row = array<vec4<f32>, 4>;
alias Seg = array<f32, 12>;

// Padded-x segment of logical row r from texel column c: 8 values (stride 1) or 12 (stride 2).
fn seg(c: u32, r: u32) -> Seg {
  let cc = c + p.wp4 * (r >> 13u);
  let rr = r & 8191u;
  let t0 = textureLoad(xt, vec2<u32>(cc, rr));
  let t1 = textureLoad(xt, vec2<u32>(cc + 1u, rr));
  var t2 = vec4<f32>(0.0);
  if (S > 1u) { t2 = textureLoad(xt, vec2<u32>(cc + 2u, rr)); }
  return Seg(t0.x, t0.y, t0.z, t0.w, t1.x, t1.y, t1.z, t1.w, t2.x, t2.y, t2.z, t2.w);
}

// The 4 pixels of a quad for tap kw.
fn shift(e: ptr<function, Seg>, kw: u32) -> vec4<f32> {
  return vec4<f32>((*e)[kw], (*e)[kw + S], (*e)[kw + 2u * S], (*e)[kw + 3u * S]);
}

// The quads shifted for each tap kw < K of one (ci, kh); weights of those taps, 16 channels as 4 vec4s.
alias Taps = array<Row, 5>;
alias TapsW = array<array<vec4<f32>, 4>, 5>;
// One output channel's weights over the K taps.
alias TapW = array<f32, 5>;

// One row of the tile += sum over taps kw < K of w[kw] * xs[kw]. Each output vec4 takes its K FMAs in one
// chain: the tile does not fit in registers, so each spilled accumulator is loaded and stored once per
// (ci, kh) instead of once per tap.
fn fmaRowTaps(r: ptr<function, Row>, w: TapW, xs: ptr<function, Taps>) {
  (*r)[0] = chain(w, xs, 0u, (*r)[0]);
  (*r)[1] = chain(w, xs, 1u, (*r)[1]);
  (*r)[2] = chain(w, xs, 2u, (*r)[2]);
  (*r)[3] = chain(w, xs, 3u, (*r)[3]);
}

fn chain(w: TapW, xs: ptr<function, Taps>, q: u32, acc: vec4<f32>) -> vec4<f32> {
  var t = fma(vec4<f32>(w[0]), (*xs)[0][q], acc);
  if (K > 1u) { t = fma(vec4<f32>(w[1]), (*xs)[1][q], t); }
  if (K > 2u) { t = fma(vec4<f32>(w[2]), (*xs)[2][q], t); }
  if (K > 3u) { t = fma(vec4<f32>(w[3]), (*xs)[3][q], t); }
  if (K > 4u) { t = fma(vec4<f32>(w[4]), (*xs)[4][q], t); }
  return t;
}

// The weights of one tap (row r of the packed weights) for the CH channels from texel c4 (4 channels a texel).
fn tapWeights(c4: u32, r: u32) -> array<vec4<f32>, 4> {
  var t = array<vec4<f32>, 4>();
  t[0] = textureLoad(wt, vec2<u32>(c4, r));
  if (CH > 4u) { t[1] = textureLoad(wt, vec2<u32>(c4 + 1u, r)); }
  if (CH > 8u) {
    t[2] = textureLoad(wt, vec2<u32>(c4 + 2u, r));
    t[3] = textureLoad(wt, vec2<u32>(c4 + 3u, r));
  }
  return t;
}

// All K taps of one (ci, kh): wr = the weight row of tap 0; a0 .. a15 = the tile's rows (channels).
fn taps(wr: u32, e0: ptr<function, Seg>, e1: ptr<function, Seg>, e2: ptr<function, Seg>,
        e3: ptr<function, Seg>,
        a0: ptr<function, Row>, a1: ptr<function, Row>, a2: ptr<function, Row>, a3: ptr<function, Row>,
        a4: ptr<function, Row>, a5: ptr<function, Row>, a6: ptr<function, Row>, a7: ptr<function, Row>,
        a8: ptr<function, Row>, a9: ptr<function, Row>, a10: ptr<function, Row>, a11: ptr<function, Row>,
        a12: ptr<function, Row>, a13: ptr<function, Row>, a14: ptr<function, Row>, a15: ptr<function, Row>) {
  var xs: Taps;
  var w: TapsW;
  let c4 = p.cb * (CH / 4u);
  {
    xs[0] = Row(shift(e0, 0u), shift(e1, 0u), shift(e2, 0u), shift(e3, 0u));
    w[0] = tapWeights(c4, wr + 0u);
  }
  if (K > 1u) {
    xs[1] = Row(shift(e0, 1u), shift(e1, 1u), shift(e2, 1u), shift(e3, 1u));
    w[1] = tapWeights(c4, wr + 1u);
  }
  if (K > 2u) {
    xs[2] = Row(shift(e0, 2u), shift(e1, 2u), shift(e2, 2u), shift(e3, 2u));
    w[2] = tapWeights(c4, wr + 2u);
  }
  if (K > 3u) {
    xs[3] = Row(shift(e0, 3u), shift(e1, 3u), shift(e2, 3u), shift(e3, 3u));
    w[3] = tapWeights(c4, wr + 3u);
  }
  if (K > 4u) {
    xs[4] = Row(shift(e0, 4u), shift(e1, 4u), shift(e2, 4u), shift(e3, 4u));
    w[4] = tapWeights(c4, wr + 4u);
  }
  fmaRowTaps(a0, TapW(w[0][0].x, w[1][0].x, w[2][0].x, w[3][0].x, w[4][0].x), &xs);
  fmaRowTaps(a1, TapW(w[0][0].y, w[1][0].y, w[2][0].y, w[3][0].y, w[4][0].y), &xs);
  fmaRowTaps(a2, TapW(w[0][0].z, w[1][0].z, w[2][0].z, w[3][0].z, w[4][0].z), &xs);
  fmaRowTaps(a3, TapW(w[0][0].w, w[1][0].w, w[2][0].w, w[3][0].w, w[4][0].w), &xs);
  if (CH <= 4u) { return; }
  fmaRowTaps(a4, TapW(w[0][1].x, w[1][1].x, w[2][1].x, w[3][1].x, w[4][1].x), &xs);
  fmaRowTaps(a5, TapW(w[0][1].y, w[1][1].y, w[2][1].y, w[3][1].y, w[4][1].y), &xs);
  fmaRowTaps(a6, TapW(w[0][1].z, w[1][1].z, w[2][1].z, w[3][1].z, w[4][1].z), &xs);
  fmaRowTaps(a7, TapW(w[0][1].w, w[1][1].w, w[2][1].w, w[3][1].w, w[4][1].w), &xs);
  if (CH <= 8u) { return; }
  fmaRowTaps(a8, TapW(w[0][2].x, w[1][2].x, w[2][2].x, w[3][2].x, w[4][2].x), &xs);
  fmaRowTaps(a9, TapW(w[0][2].y, w[1][2].y, w[2][2].y, w[3][2].y, w[4][2].y), &xs);
  fmaRowTaps(a10, TapW(w[0][2].z, w[1][2].z, w[2][2].z, w[3][2].z, w[4][2].z), &xs);
  fmaRowTaps(a11, TapW(w[0][2].w, w[1][2].w, w[2][2].w, w[3][2].w, w[4][2].w), &xs);
  fmaRowTaps(a12, TapW(w[0][3].x, w[1][3].x, w[2][3].x, w[3][3].x, w[4][3].x), &xs);
  fmaRowTaps(a13, TapW(w[0][3].y, w[1][3].y, w[2][3].y, w[3][3].y, w[4][3].y), &xs);
  fmaRowTaps(a14, TapW(w[0][3].z, w[1][3].z, w[2][3].z, w[3][3].z, w[4][3].z), &xs);
  fmaRowTaps(a15, TapW(w[0][3].w, w[1][3].w, w[2][3].w, w[3][3].w, w[4][3].w), &xs);
}

// Flat quad index g (clamped to the last quad) as (image, output row, quad in the row).
fn quad(g: u32) -> vec3<u32> {
  let gc = min(g, p.total - 1u);
  return vec3<u32>(gc / (p.wq * p.ho), (gc / p.wq) % p.ho, gc % p.wq);
}

// Stores channel co of quad q (decoded by quad(g)) (bias added, pixels past Wo dropped).
fn put(co: u32, g: u32, q: vec3<u32>, v: vec4<f32>) {
  if (co >= p.cout || g >= p.total) { return; }
  var o = v;
  if (HAS_BIAS == 1u) { o += vec4<f32>(b[co]); }
  if (LEAKY == 1u) { o = select(o * SLOPE, o, o > vec4<f32>(0.0)); }
  let base = (((p.n0 + q.x) * p.cout + co) * p.ho + q.y) * p.wo;
  let ox = q.z * 4u;
  y[base + ox] = o.x;
  if (ox + 1u < p.wo) { y[base + ox + 1u] = o.y; }
  if (ox + 2u < p.wo) { y[base + ox + 2u] = o.z; }
  if (ox + 3u < p.wo) { y[base + ox + 3u] = o.w; }
}

fn putRow(co: u32, g0: u32, q: array<vec3<u32>, 4>, r: Row) {
  put(co, g0, q[0], r[0]);
  put(co, g0 + 1u, q[1], r[1]);
  put(co, g0 + 2u, q[2], r[2]);
  put(co, g0 + 3u, q[3], r[3]);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g0 = ((wid.x + wid.y * nwg.x) * WG + lid) * 4u;
  // logical padded row of (ci = 0, kh = 0) and texel column of each quad
  let q0 = quad(g0);
  let q1 = quad(g0 + 1u);
  let q2 = quad(g0 + 2u);
  let q3 = quad(g0 + 3u);
  var r0 = q0.x * p.cin * p.hp + q0.y * S;
  var r1 = q1.x * p.cin * p.hp + q1.y * S;
  var r2 = q2.x * p.cin * p.hp + q2.y * S;
  var r3 = q3.x * p.cin * p.hp + q3.y * S;
  let c0 = q0.z * S;
  let c1 = q1.z * S;
  let c2 = q2.z * S;
  let c3 = q3.z * S;
  var a0: Row;
  var a1: Row;
  var a2: Row;
  var a3: Row;
  var a4: Row;
  var a5: Row;
  var a6: Row;
  var a7: Row;
  var a8: Row;
  var a9: Row;
  var a10: Row;
  var a11: Row;
  var a12: Row;
  var a13: Row;
  var a14: Row;
  var a15: Row;
  var wr = 0u;
  for (var ci = 0u; ci < p.cin; ci++) {
    for (var kh = 0u; kh < K; kh++) {
      var e0 = seg(c0, r0 + kh);
      var e1 = seg(c1, r1 + kh);
      var e2 = seg(c2, r2 + kh);
      var e3 = seg(c3, r3 + kh);
      taps(wr, &e0, &e1, &e2, &e3, &a0, &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11, &a12, &a13,
        &a14, &a15);
      wr += K;
    }
    r0 += p.hp;
    r1 += p.hp;
    r2 += p.hp;
    r3 += p.hp;
  }
  let co = p.cb * CH;
  let qs = array<vec3<u32>, 4>(q0, q1, q2, q3);
  putRow(co, g0, qs, a0);
  putRow(co + 1u, g0, qs, a1);
  putRow(co + 2u, g0, qs, a2);
  putRow(co + 3u, g0, qs, a3);
  if (CH <= 4u) { return; }
  putRow(co + 4u, g0, qs, a4);
  putRow(co + 5u, g0, qs, a5);
  putRow(co + 6u, g0, qs, a6);
  putRow(co + 7u, g0, qs, a7);
  if (CH <= 8u) { return; }
  putRow(co + 8u, g0, qs, a8);
  putRow(co + 9u, g0, qs, a9);
  putRow(co + 10u, g0, qs, a10);
  putRow(co + 11u, g0, qs, a11);
  putRow(co + 12u, g0, qs, a12);
  putRow(co + 13u, g0, qs, a13);
  putRow(co + 14u, g0, qs, a14);
  putRow(co + 15u, g0, qs, a15);
}
