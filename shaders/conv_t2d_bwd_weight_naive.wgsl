// conv_t2d_bwd_weight_naive: gradient of a transposed 2-D convolution wrt its weight, one weight per
// invocation, accumulated (+=):
// dw[ci, co, ky, kx] += sum over n, iy, ix of x[n, ci, iy, ix] * dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx]
// (terms outside dy are zero).
// Shapes: x (N, Cin, H, W); dy (N, Cout, Ho, Wo); dw (Cin, Cout, K, K).
// Bindings: 0 x read; 1 dy read; 2 dw read_write; 3 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo: u32 }.
// Dispatch: 1-D over Cin*Cout*K*K weights, WG a group, folded by grid1d (flat group = x + y * nx).
override WG: u32 = 64u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.cin * p.cout * p.k * p.k) { return; }
  let kx = i % p.k;
  let ky = (i / p.k) % p.k;
  let co = (i / (p.k * p.k)) % p.cout;
  let ci = i / (p.k * p.k * p.cout);
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) {
    for (var iy = 0u; iy < p.h; iy++) {
      let oy = i32(iy * p.stride + ky) - i32(p.pad);
      if (oy < 0 || oy >= i32(p.ho)) { continue; }
      for (var ix = 0u; ix < p.w; ix++) {
        let ox = i32(ix * p.stride + kx) - i32(p.pad);
        if (ox < 0 || ox >= i32(p.wo)) { continue; }
        acc = fma(x[((n * p.cin + ci) * p.h + iy) * p.w + ix], dy[((n * p.cout + co) * p.ho + u32(oy)) * p.wo + u32(ox)], acc);
      }
    }
  }
  dw[i] += acc;
}
