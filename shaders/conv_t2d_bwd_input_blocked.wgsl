// conv_t2d_bwd_input_blocked: gradient of a transposed 2-D convolution wrt its input (a strided convolution
// of dy), register blocked: each invocation computes TP input pixels x 4*TC4 input channels, written (=):
// dx[n, ci, iy, ix] = sum over co, ky, kx of dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx] * w[ci, co, ky, kx].
// Textures: dyt = dy packed by conv_t2d_pack with border B >= pad (texel ((ox + B) * COUT4 + co4, n * (Ho + 2B) + oy + B));
//           wt texel (ci4, co * K * K + ky * K + kx) = w[4ci4 .. 4ci4+3, co, ky, kx], zero for co >= Cout.
// Bindings: 0 dyt; 1 wt; 2 dx (N, Cin, H, W) read_write;
//           3 uniform { n, cout4, h, w, cin, k, stride, pad, ho, wo, border: u32 }.
// Dispatch: (ceil(N * H * W / (TP * WG_X)), ceil(Cin / (4 * TC4 * WG_Y)), 1) workgroups of (WG_X, WG_Y);
// positions are flat over (n, iy, ix).
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
const TP = 8u;
const TC4 = 2u;

struct Params {
  n: u32, cout4: u32, h: u32, w: u32, cin: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32, border: u32,
}

@group(0) @binding(0) var dyt: texture_2d<f32>;
@group(0) @binding(1) var wt: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let total = p.n * p.h * p.w;
  let pos0 = gid.x * TP;
  let ci40 = gid.y * TC4;
  let hb = p.ho + 2u * p.border;
  var bx: array<i32, TP>;
  var by: array<i32, TP>;
  for (var t = 0u; t < TP; t++) {
    let pos = min(pos0 + t, total - 1u);
    let ix = pos % p.w;
    let iy = (pos / p.w) % p.h;
    let n = pos / (p.w * p.h);
    bx[t] = i32(ix * p.stride + p.border) - i32(p.pad);
    by[t] = i32(n * hb + iy * p.stride + p.border) - i32(p.pad);
  }
  let kk = p.k * p.k;
  var acc: array<array<vec4<f32>, TC4>, TP>;
  for (var ky = 0u; ky < p.k; ky++) {
    for (var kx = 0u; kx < p.k; kx++) {
      let tap = ky * p.k + kx;
      for (var co4 = 0u; co4 < p.cout4; co4++) {
        var dv: array<vec4<f32>, TP>;
        for (var t = 0u; t < TP; t++) {
          dv[t] = textureLoad(dyt, vec2<i32>((bx[t] + i32(kx)) * i32(p.cout4) + i32(co4), by[t] + i32(ky)), 0);
        }
        for (var q = 0u; q < 4u; q++) {
          let row = (co4 * 4u + q) * kk + tap;
          var wv: array<vec4<f32>, TC4>;
          for (var j = 0u; j < TC4; j++) { wv[j] = textureLoad(wt, vec2<u32>(ci40 + j, row), 0); }
          for (var t = 0u; t < TP; t++) {
            let a = vec4<f32>(dv[t][q]);
            for (var j = 0u; j < TC4; j++) { acc[t][j] = fma(a, wv[j], acc[t][j]); }
          }
        }
      }
    }
  }
  for (var t = 0u; t < TP; t++) {
    let pos = pos0 + t;
    if (pos >= total) { break; }
    let ix = pos % p.w;
    let iy = (pos / p.w) % p.h;
    let n = pos / (p.w * p.h);
    for (var j = 0u; j < TC4; j++) {
      for (var q = 0u; q < 4u; q++) {
        let ci = (ci40 + j) * 4u + q;
        if (ci < p.cin) { dx[((n * p.cin + ci) * p.h + iy) * p.w + ix] = acc[t][j][q]; }
      }
    }
  }
}
