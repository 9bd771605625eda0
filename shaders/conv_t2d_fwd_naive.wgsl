// conv_t2d_fwd_naive: transposed 2-D convolution, one output per invocation (the reference kernel):
// y[n, co, oy, ox] = bias[co] + sum over ci, ky, kx of x[n, ci, iy, ix] * w[ci, co, ky, kx]
// where oy = iy * stride - pad + ky and ox = ix * stride - pad + kx (a gather over the taps that land here).
// Shapes: x (N, Cin, H, W); w (Cin, Cout, K, K) (PyTorch layout); bias (Cout); y (N, Cout, Ho, Wo).
// Bindings: 0 x read; 1 w read; 2 bias read (ignored unless HAS_BIAS); 3 y read_write;
//           4 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo: u32 }.
// Dispatch: 1-D over N*Cout*Ho*Wo outputs, WG a group, folded by grid1d (flat group = x + y * nx).
override WG: u32 = 64u;
override HAS_BIAS: u32 = 0u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n * p.cout * p.ho * p.wo) { return; }
  let ox = i32(i % p.wo);
  let oy = i32((i / p.wo) % p.ho);
  let co = (i / (p.wo * p.ho)) % p.cout;
  let n = i / (p.wo * p.ho * p.cout);
  let s = i32(p.stride);
  let k = i32(p.k);
  var acc = 0.0;
  if (HAS_BIAS == 1u) { acc = bias[co]; }
  for (var ci = 0u; ci < p.cin; ci++) {
    for (var ky = 0; ky < k; ky++) {
      let ty = oy + i32(p.pad) - ky;
      if (ty < 0 || ty % s != 0 || ty / s >= i32(p.h)) { continue; }
      let iy = u32(ty / s);
      for (var kx = 0; kx < k; kx++) {
        let tx = ox + i32(p.pad) - kx;
        if (tx < 0 || tx % s != 0 || tx / s >= i32(p.w)) { continue; }
        let ix = u32(tx / s);
        acc = fma(x[((n * p.cin + ci) * p.h + iy) * p.w + ix], w[((ci * p.cout + co) * p.k + u32(ky)) * p.k + u32(kx)], acc);
      }
    }
  }
  y[i] = acc;
}
