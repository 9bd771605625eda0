// conv_t2d_bwd_input_tiled: gradient of a transposed 2-D convolution wrt its input (an ordinary strided
// convolution of dy) as an implicit GEMM with shared-memory tiles (variant "tiled", for real GPUs), written (=):
// dx[n, ci, iy, ix] = bias[ci] + sum over co, ky, kx of dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx] * w[ci, co, ky, kx]
// (terms outside dy are zero; bias only when HAS_BIAS, for conv2d's forward, which is the same product).
// As a GEMM: C (Cin, P) = Wm (Cin, R) D (R, P) with P = N * H * W input pixels, R = Cout * K * K,
// Wm = w viewed as (Cin, Cout K K) row-major, D[(co, ky, kx), p] = dy[n, co, oy, ox].
// Shapes: dy (N, Cout, Ho, Wo); w (Cin, Cout, K, K); bias (Cin); dx (N, Cin, H, W). Ho, Wo are taken as
// given (any size: conv2d's backward passes map onto this with a remainder row or column).
// Tiling as matmul_tiled: a (WG_X, WG_Y) workgroup owns 4 WG_Y channels x 4 WG_X pixels, each invocation
// 4 x 4 in registers; the reduction is staged BK at a time through var<workgroup> vec4 arrays; weight
// loads run along R (contiguous), dy loads along the pixels.
// Bindings: 0 dy read; 1 w read; 2 bias read (ignored unless HAS_BIAS); 3 dx read_write;
//           4 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo: u32 }.
// Dispatch: (ceil(N H W / (4 WG_X)), ceil(Cin / (4 WG_Y)), 1) workgroups of (WG_X, WG_Y).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
override HAS_BIAS: u32 = 0u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sa: array<vec4<f32>, BK * (WG_Y + 1u)>;
var<workgroup> sb: array<vec4<f32>, BK * (WG_X + 1u)>;

fn loadW(ci: u32, r: u32, nr: u32) -> f32 {
  if (ci >= p.cin || r >= nr) { return 0.0; }
  return w[ci * nr + r];
}

// D[r, q] for input pixel q
fn loadD(r: u32, nr: u32, q: u32, np: u32) -> f32 {
  if (r >= nr || q >= np) { return 0.0; }
  let kk = p.k * p.k;
  let co = r / kk;
  let t = r % kk;
  let hw = p.h * p.w;
  let nn = q / hw;
  let pix = q % hw;
  let oy = i32((pix / p.w) * p.stride + t / p.k) - i32(p.pad);
  let ox = i32((pix % p.w) * p.stride + t % p.k) - i32(p.pad);
  if (oy < 0 || ox < 0 || oy >= i32(p.ho) || ox >= i32(p.wo)) { return 0.0; }
  return dy[((nn * p.cout + co) * p.ho + u32(oy)) * p.wo + u32(ox)];
}

// Offset of input pixel q in dx without the channel term, or -1 past the end.
fn outOffset(q: u32, np: u32) -> i32 {
  if (q >= np) { return -1; }
  let hw = p.h * p.w;
  return i32((q / hw) * p.cin * hw + q % hw);
}

fn putRow(ci: u32, offs: vec4<i32>, v: vec4<f32>) {
  if (ci >= p.cin) { return; }
  var b = 0.0;
  if (HAS_BIAS == 1u) { b = bias[ci]; }
  let base = i32(ci * p.h * p.w);
  if (offs.x >= 0) { dx[base + offs.x] = v.x + b; }
  if (offs.y >= 0) { dx[base + offs.y] = v.y + b; }
  if (offs.z >= 0) { dx[base + offs.z] = v.z + b; }
  if (offs.w >= 0) { dx[base + offs.w] = v.w + b; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let nr = p.cout * p.k * p.k;
  let np = p.n * p.h * p.w;
  let nt = WG_X * WG_Y;
  let tm = 4u * WG_Y;
  let tn = 4u * WG_X;
  let row0 = wid.y * tm;
  let col0 = wid.x * tn;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  for (var k0 = 0u; k0 < nr; k0 += BK) {
    for (var e = li; e < tm * BK; e += nt) {
      let l = e % BK;
      let i = e / BK;
      sa[l * (WG_Y + 1u) + i / 4u][i % 4u] = loadW(row0 + i, k0 + l, nr);
    }
    for (var e = li; e < tn * BK; e += nt) {
      let j = e % tn;
      let l = e / tn;
      sb[l * (WG_X + 1u) + j / 4u][j % 4u] = loadD(k0 + l, nr, col0 + j, np);
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
  let q = col0 + 4u * lid.x;
  let offs = vec4<i32>(outOffset(q, np), outOffset(q + 1u, np), outOffset(q + 2u, np), outOffset(q + 3u, np));
  let ci = row0 + 4u * lid.y;
  putRow(ci, offs, acc0);
  putRow(ci + 1u, offs, acc1);
  putRow(ci + 2u, offs, acc2);
  putRow(ci + 3u, offs, acc3);
}
