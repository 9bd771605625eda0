// conv_t2d_bwd_weight_blocked: gradient of a transposed 2-D convolution wrt its weight, register blocked:
// each invocation computes 4*TCI4 input channels x 4*TCO4 output channels of one tap (ky, kx), summed over
// the input rows (n, iy) of its split z (rows z * RPS .. (z + 1) * RPS) and all ix:
// part[ci, co, ky, kx] = sum of x[n, ci, iy, ix] * dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx].
// ACCUMULATE = 1 (one split): dw += part directly; else part goes to out[z, ci, co, ky, kx] (=) and
// conv_t2d_reduce adds the splits into dw (split-K, for parallelism when Cin*Cout*K*K is small).
// Textures: xt = x packed by conv_t2d_pack with border 0 (texel (ix * CIN4 + ci4, n * H + iy));
//           dyt = dy packed with border B >= pad (texel ((ox + B) * COUT4 + co4, n * (Ho + 2B) + oy + B)).
// Bindings: 0 xt; 1 dyt; 2 out read_write ((S, Cin, Cout, K, K), or dw (Cin, Cout, K, K) when ACCUMULATE);
//           3 uniform { n, cin4, h, w, cout4, k, stride, pad, ho, wo, border, rps, cin, cout: u32 }.
// Dispatch: (ceil(K*K * ceil(Cout / (4 TCO4)) / WG_X), ceil(Cin / (4 TCI4)), S) workgroups of (WG_X, 1, 1);
// gid.x = tap * COB + co block.
override WG_X: u32 = 8u;
override ACCUMULATE: u32 = 1u;
const TCI4 = 2u;
const TCO4 = 2u;

struct Params {
  n: u32, cin4: u32, h: u32, w: u32, cout4: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32,
  border: u32, rps: u32, cin: u32, cout: u32,
}

@group(0) @binding(0) var xt: texture_2d<f32>;
@group(0) @binding(1) var dyt: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> outp: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let cob = (p.cout4 + TCO4 - 1u) / TCO4;
  let kk = p.k * p.k;
  let cell = min(gid.x, kk * cob - 1u);
  let tap = cell / cob;
  let co40 = (cell % cob) * TCO4;
  let ci40 = gid.y * TCI4;
  let ky = tap / p.k;
  let kx = tap % p.k;
  let hb = p.ho + 2u * p.border;
  let rows = p.n * p.h;
  let r0 = gid.z * p.rps;
  let r1 = min(r0 + p.rps, rows);
  let s = i32(p.stride);
  var acc: array<array<vec4<f32>, TCO4>, 4u * TCI4>;
  for (var r = r0; r < r1; r++) {
    let n = r / p.h;
    let iy = r % p.h;
    let dyrow = i32(n * hb + iy * p.stride + ky + p.border) - i32(p.pad);
    let dxcol = i32(kx + p.border) - i32(p.pad);
    for (var ix = 0u; ix < p.w; ix++) {
      var xv: array<vec4<f32>, TCI4>;
      var dv: array<vec4<f32>, TCO4>;
      for (var i = 0u; i < TCI4; i++) {
        xv[i] = textureLoad(xt, vec2<u32>(ix * p.cin4 + min(ci40 + i, p.cin4 - 1u), r), 0);
      }
      let ox = i32(ix) * s + dxcol;
      for (var j = 0u; j < TCO4; j++) {
        dv[j] = textureLoad(dyt, vec2<i32>(ox * i32(p.cout4) + i32(min(co40 + j, p.cout4 - 1u)), dyrow), 0);
      }
      for (var i = 0u; i < TCI4; i++) {
        for (var qi = 0u; qi < 4u; qi++) {
          let a = vec4<f32>(xv[i][qi]);
          for (var j = 0u; j < TCO4; j++) { acc[i * 4u + qi][j] = fma(a, dv[j], acc[i * 4u + qi][j]); }
        }
      }
    }
  }
  if (gid.x >= kk * cob) { return; }
  let base = select(gid.z * p.cin * p.cout * kk, 0u, ACCUMULATE == 1u);
  for (var i = 0u; i < 4u * TCI4; i++) {
    let ci = ci40 * 4u + i;
    if (ci >= p.cin) { break; }
    for (var j = 0u; j < TCO4; j++) {
      for (var q = 0u; q < 4u; q++) {
        let co = (co40 + j) * 4u + q;
        if (co < p.cout) {
          let o = base + (ci * p.cout + co) * kk + tap;
          if (ACCUMULATE == 1u) { outp[o] += acc[i][j][q]; } else { outp[o] = acc[i][j][q]; }
        }
      }
    }
  }
}
