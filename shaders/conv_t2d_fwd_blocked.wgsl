// conv_t2d_fwd_blocked: transposed 2-D convolution forward for one output parity class (py, px), register
// blocked: each invocation computes TP output pixels x 4*TC4 output channels. Outputs of one parity class
// (oy = qy * stride + py, ox = qx * stride + px) all gather from the same taps ky = ry, ry + stride, ...
// (ry = (py + pad) % stride) at input iy = qy + (py + pad - ky) / stride, so no tap is wasted (for k4 s2
// each output gets exactly 2 x 2 taps a channel). Inputs come from textures (see conv_t2d_pack; llvmpipe
// gathers texels far faster than it loads storage buffers).
// y[n, co, oy, ox] = bias[co] + sum over ci and valid taps of x[n, ci, iy, ix] * w[ci, co, ky, kx].
// Textures: xt = x packed by conv_t2d_pack with border B (texel ((ix + B) * CIN4 + ci4, n * (H + 2B) + iy + B));
//           wt texel (co4, ci * K * K + ky * K + kx) = w[ci, 4co4 .. 4co4+3, ky, kx], zero for ci >= Cin.
// Bindings: 0 xt; 1 wt; 2 bias (Cout) read (ignored unless HAS_BIAS); 3 y (N, Cout, Ho, Wo) read_write;
//           4 uniform { n, cin4, h, w, cout, k, stride, pad, ho, wo, hq, wq, py, px, border: u32 }.
// Dispatch: (ceil(N * Hq * Wq / (TP * WG_X)), ceil(Cout / (4 * TC4 * WG_Y)), 1) workgroups of (WG_X, WG_Y),
// one dispatch per parity class; positions are flat over (n, qy, qx), so small images still fill a block.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
override HAS_BIAS: u32 = 0u;
const TP = 8u;
const TC4 = 2u;

struct Params {
  n: u32, cin4: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32,
  hq: u32, wq: u32, py: u32, px: u32, border: u32,
}

@group(0) @binding(0) var xt: texture_2d<f32>;
@group(0) @binding(1) var wt: texture_2d<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let total = p.n * p.hq * p.wq;
  let pos0 = gid.x * TP;
  let co40 = gid.y * TC4;
  let hb = p.h + 2u * p.border;
  // texture coordinates of each position's input pixel before the tap offset (clamped: extra lanes
  // recompute the last position and store nothing)
  var bx: array<i32, TP>;
  var by: array<i32, TP>;
  for (var t = 0u; t < TP; t++) {
    let pos = min(pos0 + t, total - 1u);
    let qx = pos % p.wq;
    let qy = (pos / p.wq) % p.hq;
    let n = pos / (p.wq * p.hq);
    bx[t] = i32(qx + p.border);
    by[t] = i32(n * hb + qy + p.border);
  }
  let s = i32(p.stride);
  let kk = p.k * p.k;
  var acc: array<array<vec4<f32>, TC4>, TP>;
  for (var ky = (p.py + p.pad) % p.stride; ky < p.k; ky += p.stride) {
    let oy = (i32(p.py + p.pad) - i32(ky)) / s;
    for (var kx = (p.px + p.pad) % p.stride; kx < p.k; kx += p.stride) {
      let ox = (i32(p.px + p.pad) - i32(kx)) / s;
      let tap = ky * p.k + kx;
      for (var ci4 = 0u; ci4 < p.cin4; ci4++) {
        var xv: array<vec4<f32>, TP>;
        for (var t = 0u; t < TP; t++) {
          xv[t] = textureLoad(xt, vec2<i32>((bx[t] + ox) * i32(p.cin4) + i32(ci4), by[t] + oy), 0);
        }
        for (var q = 0u; q < 4u; q++) {
          let row = (ci4 * 4u + q) * kk + tap;
          var wv: array<vec4<f32>, TC4>;
          for (var j = 0u; j < TC4; j++) { wv[j] = textureLoad(wt, vec2<u32>(co40 + j, row), 0); }
          for (var t = 0u; t < TP; t++) {
            let a = vec4<f32>(xv[t][q]);
            for (var j = 0u; j < TC4; j++) { acc[t][j] = fma(a, wv[j], acc[t][j]); }
          }
        }
      }
    }
  }
  for (var t = 0u; t < TP; t++) {
    let pos = pos0 + t;
    if (pos >= total) { break; }
    let ox = (pos % p.wq) * p.stride + p.px;
    let oy = ((pos / p.wq) % p.hq) * p.stride + p.py;
    let n = pos / (p.wq * p.hq);
    for (var j = 0u; j < TC4; j++) {
      for (var q = 0u; q < 4u; q++) {
        let co = (co40 + j) * 4u + q;
        if (co < p.cout) {
          var v = acc[t][j][q];
          if (HAS_BIAS == 1u) { v += bias[co]; }
          y[((n * p.cout + co) * p.ho + oy) * p.wo + ox] = v;
        }
      }
    }
  }
}
