// conv2d_fwd_naive: y[n, co, oy, ox] = b[co] + sum over ci, kh, kw of
//   x[n, ci, oy*S + kh - PAD, ox*S + kw - PAD] * w[co, ci, kh, kw]   (zero outside the image).
// The obviously-correct reference kernel (one output per invocation), kept for debugging.
// Bindings: 0 x (N, Cin, H, W) read; 1 w (Cout, Cin, K, K) read; 2 b (Cout) read (HAS_BIAS = 0 skips it);
//           3 y (N, Cout, Ho, Wo) write; 4 uniform Params (shapes below).
// Dispatch: 1-D over N*Cout*Ho*Wo outputs, WG a group, folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 64;
override HAS_BIAS: u32 = 1u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let ox = i % p.wo;
  let oy = (i / p.wo) % p.ho;
  let co = (i / (p.wo * p.ho)) % p.cout;
  let n = i / (p.wo * p.ho * p.cout);
  var acc = 0.0;
  if (HAS_BIAS == 1u) { acc = b[co]; }
  for (var ci = 0u; ci < p.cin; ci++) {
    for (var kh = 0u; kh < p.k; kh++) {
      let iy = i32(oy * p.s + kh) - i32(p.pad);
      if (iy < 0 || iy >= i32(p.h)) { continue; }
      for (var kw = 0u; kw < p.k; kw++) {
        let ix = i32(ox * p.s + kw) - i32(p.pad);
        if (ix < 0 || ix >= i32(p.w)) { continue; }
        acc += x[((n * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix)] * w[((co * p.cin + ci) * p.k + kh) * p.k + kw];
      }
    }
  }
  y[i] = acc;
}
