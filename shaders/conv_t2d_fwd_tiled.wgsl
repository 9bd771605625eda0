// conv_t2d_fwd_tiled: transposed 2-D convolution as an implicit GEMM with shared-memory tiles, one output
// parity class per grid layer z (variant "tiled", for real GPUs):
// y[n, co, oy, ox] = bias[co] + sum over ci, ky, kx of x[n, ci, iy, ix] * w[ci, co, ky, kx]
// where oy = iy * stride - pad + ky, ox = ix * stride - pad + kx.
// Outputs with oy % stride = py and ox % stride = px (class z = py * stride + px) only meet taps with
// ky = ky0 + stride * ty, ky0 = (py + pad) % stride (likewise kx), at iy = (py + pad) / stride + oy / stride - ty.
// So per class: C (Cout, P) = Wc (Cout, R) X (R, P) with P = N * Hq * Wq output pixels of the class and
// R = Cin * TY * TX taps, Wc[co, (ci, ty, tx)] = w[ci, co, ky, kx], X[(ci, ty, tx), p] = x[n, ci, iy, ix]
// (zero outside x). No wasted multiply-adds on taps that miss.
// Shapes: x (N, Cin, H, W); w (Cin, Cout, K, K) (PyTorch layout); bias (Cout); y (N, Cout, Ho, Wo).
// Tiling as matmul_tiled: a (WG_X, WG_Y) workgroup owns 4 WG_Y channels x 4 WG_X pixels, each invocation
// 4 x 4 in registers; the reduction is staged BK at a time through var<workgroup> vec4 arrays; pixel loads
// run along the pixels (contiguous in x), weight loads along the taps.
// Bindings: 0 x read; 1 w read; 2 bias read (ignored unless HAS_BIAS); 3 y read_write;
//           4 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo: u32 }.
// Dispatch: (ceil(Pmax / (4 WG_X)), ceil(Cout / (4 WG_Y)), stride * stride) workgroups of (WG_X, WG_Y),
// Pmax = N * ceil(Ho / stride) * ceil(Wo / stride) (class 0 is the largest; groups past a class's P idle).
override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
override HAS_BIAS: u32 = 0u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sa: array<vec4<f32>, BK * (WG_Y + 1u)>;
var<workgroup> sb: array<vec4<f32>, BK * (WG_X + 1u)>;

// The parity class a workgroup layer works on (all uniform: from workgroup_id.z and the uniforms).
struct Class { py: u32, px: u32, ky0: u32, kx0: u32, dy0: u32, dx0: u32, ty: u32, tx: u32, hq: u32, wq: u32 }

fn taps(k0: u32) -> u32 {
  if (k0 >= p.k) { return 0u; }
  return (p.k - k0 + p.stride - 1u) / p.stride;
}

fn outs(o0: u32, size: u32) -> u32 {
  if (o0 >= size) { return 0u; }
  return (size - o0 + p.stride - 1u) / p.stride;
}

fn classOf(z: u32) -> Class {
  var c: Class;
  c.py = z / p.stride;
  c.px = z % p.stride;
  c.ky0 = (c.py + p.pad) % p.stride;
  c.kx0 = (c.px + p.pad) % p.stride;
  c.dy0 = (c.py + p.pad) / p.stride;
  c.dx0 = (c.px + p.pad) / p.stride;
  c.ty = taps(c.ky0);
  c.tx = taps(c.kx0);
  c.hq = outs(c.py, p.ho);
  c.wq = outs(c.px, p.wo);
  return c;
}

// Wc[co, r]
fn loadW(c: Class, co: u32, r: u32, nr: u32) -> f32 {
  if (co >= p.cout || r >= nr) { return 0.0; }
  let nt = c.ty * c.tx;
  let ci = r / nt;
  let t = r % nt;
  let ky = c.ky0 + p.stride * (t / c.tx);
  let kx = c.kx0 + p.stride * (t % c.tx);
  return w[((ci * p.cout + co) * p.k + ky) * p.k + kx];
}

// X[r, pixel] for the pixel at (nn, oyq, oxq) of the class (nn >= N: past the end)
fn loadX(c: Class, r: u32, nr: u32, nn: u32, oyq: u32, oxq: u32) -> f32 {
  if (r >= nr || nn >= p.n) { return 0.0; }
  let nt = c.ty * c.tx;
  let ci = r / nt;
  let t = r % nt;
  let iy = i32(c.dy0 + oyq) - i32(t / c.tx);
  let ix = i32(c.dx0 + oxq) - i32(t % c.tx);
  if (iy < 0 || ix < 0 || iy >= i32(p.h) || ix >= i32(p.w)) { return 0.0; }
  return x[((nn * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix)];
}

// Offset of output pixel q of the class in y without the channel term, or -1 past the end.
fn outOffset(c: Class, q: u32) -> i32 {
  if (q >= p.n * c.hq * c.wq) { return -1; }
  let oy = c.py + p.stride * ((q / c.wq) % c.hq);
  let ox = c.px + p.stride * (q % c.wq);
  return i32((q / (c.wq * c.hq)) * p.cout * p.ho * p.wo + oy * p.wo + ox);
}

fn putRow(co: u32, offs: vec4<i32>, v: vec4<f32>) {
  if (co >= p.cout) { return; }
  var b = 0.0;
  if (HAS_BIAS == 1u) { b = bias[co]; }
  let base = i32(co * p.ho * p.wo);
  if (offs.x >= 0) { y[base + offs.x] = v.x + b; }
  if (offs.y >= 0) { y[base + offs.y] = v.y + b; }
  if (offs.z >= 0) { y[base + offs.z] = v.z + b; }
  if (offs.w >= 0) { y[base + offs.w] = v.w + b; }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let cls = classOf(wid.z);
  let nr = p.cin * cls.ty * cls.tx;
  let np = p.n * cls.hq * cls.wq;
  let nt = WG_X * WG_Y;
  let tm = 4u * WG_Y;
  let tn = 4u * WG_X;
  let row0 = wid.y * tm;
  let col0 = wid.x * tn;
  var acc0 = vec4<f32>();
  var acc1 = vec4<f32>();
  var acc2 = vec4<f32>();
  var acc3 = vec4<f32>();
  // a class with no taps (K < stride) or no pixels skips the loop: bias only
  let steps = select((nr + BK - 1u) / BK, 0u, np <= col0);
  for (var s = 0u; s < steps; s++) {
    let k0 = s * BK;
    for (var e = li; e < tm * BK; e += nt) {
      let l = e % BK;
      let i = e / BK;
      sa[l * (WG_Y + 1u) + i / 4u][i % 4u] = loadW(cls, row0 + i, k0 + l, nr);
    }
    for (var e = li; e < tn * BK; e += nt) {
      let j = e % tn;
      let l = e / tn;
      let q = col0 + j;
      var v = 0.0;
      if (q < np) {
        v = loadX(cls, k0 + l, nr, q / (cls.wq * cls.hq), (q / cls.wq) % cls.hq, q % cls.wq);
      }
      sb[l * (WG_X + 1u) + j / 4u][j % 4u] = v;
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
  let offs = vec4<i32>(outOffset(cls, q), outOffset(cls, q + 1u), outOffset(cls, q + 2u), outOffset(cls, q + 3u));
  let co = row0 + 4u * lid.y;
  putRow(co, offs, acc0);
  putRow(co + 1u, offs, acc1);
  putRow(co + 2u, offs, acc2);
  putRow(co + 3u, offs, acc3);
}
