// conv2d_fwd_gemm: y = conv2d(x, w) + b as an implicit GEMM tuned for llvmpipe (also runs the input gradient:
// a stride-1 conv of the zero-dilated, padded dy with flipped weights). Each invocation keeps 16 output
// channels x 16 output pixels in registers (16 rows of 4 vec4s: 4 quads of 4 consecutive pixels along a row;
// the quads are consecutive in the flat (n, oy, quad) order, so narrow images waste nothing). x comes
// pre-padded (conv2d_pack_x), so every tap is an unmasked textureLoad: per (ci, kh) a quad reads 2 texels
// (stride 1) or 3 (stride 2) and reuses them for all K taps kw (constant shifts of an unrolled segment);
// per tap 4 vec4s of weights (lane-uniform uniform-buffer loads: one scalar load each on llvmpipe, where
// texel fetches cost several times more) feed 64 vec4 FMAs. Why this shape: on llvmpipe a texel fetch costs
// far more than an FMA, loops cost ~11 ns an iteration and dynamically indexed registers spill, so the tile
// is big, all tile indices are constants, and the kw taps are unrolled (guarded by the override K).
// Bindings: 0 xt texture_storage_2d<rgba32float, read> (conv2d_pack_x of x, planes (n, ci) of hp x 4*wp4, folded
//             every 8192 rows); 1 wu uniform: a 64 KiB window of conv2d_pack_wu's output for this
//             dispatch's 16 output channels cb and input channels ci0 .. ci0+cin-1: wu[r*4 + j] =
//             w[16cb + 4j .. 16cb + 4j + 3, ci0 + r / K^2, tap r % K^2] (r = 0 .. cin*K^2 - 1 <= 1023);
//           2 b (Cout) read (HAS_BIAS = 0 ignores it); 3 y (N, Cout, Ho, Wo) read_write (ACC = 1 adds
//             to it: later input-channel passes); 4 uniform Params (cin = input channels of this pass,
//             cinAll = all of them, total = nb*Ho*wq quads of this batch chunk, wq = ceil(Wo / 4) quads a
//             row, n0 = the chunk's first image).
// Dispatch: (gx, gy, 1): gx*gy >= ceil(total / (4 WG)) groups folded by grid1d (flat = x + y*nx); one
//           dispatch per (batch chunk, 16 output channels, pass of <= 1024 / K^2 input channels).
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;
override HAS_BIAS: u32 = 1u;
override ACC: u32 = 0u;

struct Params {
  cin: u32, cout: u32, ho: u32, wo: u32, wq: u32, hp: u32, wp4: u32, total: u32, n0: u32, cinAll: u32, ci0: u32,
  cb: u32,
}

@group(0) @binding(0) var xt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<uniform> wu: array<vec4<f32>, 4096>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

alias Row = array<vec4<f32>, 4>;
alias Seg = array<f32, 12>;
// 16 output channels x 16 pixels.
alias Acc = array<Row, 16>;

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

// Row i (a constant at every call) of the tile += w * the 4 quads x.
fn fmaRow(a: ptr<function, Acc>, i: u32, w: f32, x: ptr<function, Row>) {
  let v = vec4<f32>(w);
  (*a)[i][0] = fma(v, (*x)[0], (*a)[i][0]);
  (*a)[i][1] = fma(v, (*x)[1], (*a)[i][1]);
  (*a)[i][2] = fma(v, (*x)[2], (*a)[i][2]);
  (*a)[i][3] = fma(v, (*x)[3], (*a)[i][3]);
}

// One tap kw (a constant at every call) of one (ci, kh): 4 weight texels (16 channels) x 4 quads.
fn tap(kw: u32, wr: u32, e0: ptr<function, Seg>, e1: ptr<function, Seg>, e2: ptr<function, Seg>,
       e3: ptr<function, Seg>, a: ptr<function, Acc>) {
  var x = Row(shift(e0, kw), shift(e1, kw), shift(e2, kw), shift(e3, kw));
  let w0 = wu[wr * 4u];
  let w1 = wu[wr * 4u + 1u];
  let w2 = wu[wr * 4u + 2u];
  let w3 = wu[wr * 4u + 3u];
  fmaRow(a, 0u, w0.x, &x);
  fmaRow(a, 1u, w0.y, &x);
  fmaRow(a, 2u, w0.z, &x);
  fmaRow(a, 3u, w0.w, &x);
  fmaRow(a, 4u, w1.x, &x);
  fmaRow(a, 5u, w1.y, &x);
  fmaRow(a, 6u, w1.z, &x);
  fmaRow(a, 7u, w1.w, &x);
  fmaRow(a, 8u, w2.x, &x);
  fmaRow(a, 9u, w2.y, &x);
  fmaRow(a, 10u, w2.z, &x);
  fmaRow(a, 11u, w2.w, &x);
  fmaRow(a, 12u, w3.x, &x);
  fmaRow(a, 13u, w3.y, &x);
  fmaRow(a, 14u, w3.z, &x);
  fmaRow(a, 15u, w3.w, &x);
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
  let base = (((p.n0 + q.x) * p.cout + co) * p.ho + q.y) * p.wo;
  let ox = q.z * 4u;
  if (ACC == 1u) {
    y[base + ox] += o.x;
    if (ox + 1u < p.wo) { y[base + ox + 1u] += o.y; }
    if (ox + 2u < p.wo) { y[base + ox + 2u] += o.z; }
    if (ox + 3u < p.wo) { y[base + ox + 3u] += o.w; }
  } else {
    y[base + ox] = o.x;
    if (ox + 1u < p.wo) { y[base + ox + 1u] = o.y; }
    if (ox + 2u < p.wo) { y[base + ox + 2u] = o.z; }
    if (ox + 3u < p.wo) { y[base + ox + 3u] = o.w; }
  }
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
  var r0 = (q0.x * p.cinAll + p.ci0) * p.hp + q0.y * S;
  var r1 = (q1.x * p.cinAll + p.ci0) * p.hp + q1.y * S;
  var r2 = (q2.x * p.cinAll + p.ci0) * p.hp + q2.y * S;
  var r3 = (q3.x * p.cinAll + p.ci0) * p.hp + q3.y * S;
  let c0 = q0.z * S;
  let c1 = q1.z * S;
  let c2 = q2.z * S;
  let c3 = q3.z * S;
  var acc: Acc;
  var wr = 0u;
  for (var ci = 0u; ci < p.cin; ci++) {
    for (var kh = 0u; kh < K; kh++) {
      var e0 = seg(c0, r0 + kh);
      var e1 = seg(c1, r1 + kh);
      var e2 = seg(c2, r2 + kh);
      var e3 = seg(c3, r3 + kh);
      tap(0u, wr, &e0, &e1, &e2, &e3, &acc);
      if (K > 1u) { tap(1u, wr + 1u, &e0, &e1, &e2, &e3, &acc); }
      if (K > 2u) { tap(2u, wr + 2u, &e0, &e1, &e2, &e3, &acc); }
      if (K > 3u) { tap(3u, wr + 3u, &e0, &e1, &e2, &e3, &acc); }
      if (K > 4u) { tap(4u, wr + 4u, &e0, &e1, &e2, &e3, &acc); }
      wr += K;
    }
    r0 += p.hp;
    r1 += p.hp;
    r2 += p.hp;
    r3 += p.hp;
  }
  let co = p.cb * 16u;
  let qs = array<vec3<u32>, 4>(q0, q1, q2, q3);
  putRow(co, g0, qs, acc[0]);
  putRow(co + 1u, g0, qs, acc[1]);
  putRow(co + 2u, g0, qs, acc[2]);
  putRow(co + 3u, g0, qs, acc[3]);
  putRow(co + 4u, g0, qs, acc[4]);
  putRow(co + 5u, g0, qs, acc[5]);
  putRow(co + 6u, g0, qs, acc[6]);
  putRow(co + 7u, g0, qs, acc[7]);
  putRow(co + 8u, g0, qs, acc[8]);
  putRow(co + 9u, g0, qs, acc[9]);
  putRow(co + 10u, g0, qs, acc[10]);
  putRow(co + 11u, g0, qs, acc[11]);
  putRow(co + 12u, g0, qs, acc[12]);
  putRow(co + 13u, g0, qs, acc[13]);
  putRow(co + 14u, g0, qs, acc[14]);
  putRow(co + 15u, g0, qs, acc[15]);
}
