// conv2d_bwd_weight_naive: dw[co, ci, kh, kw] += sum over n, oy, ox of
//   dy[n, co, oy, ox] * x[n, ci, oy*S + kh - PAD, ox*S + kw - PAD]   (accumulates, +=).
// One weight per invocation (reference kernel, kept for debugging). The bias gradient is channel_sum.
// Bindings: 0 x (N, Cin, H, W) read; 1 dy (N, Cout, Ho, Wo) read; 2 dw (Cout, Cin, K, K) read_write;
//           3 uniform Params (total = Cout*Cin*K*K).
// Dispatch: 1-D over Cout*Cin*K*K, WG a group, folded into 2-D by grid1d.
override WG: u32 = 64;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let kw = i % p.k;
  let kh = (i / p.k) % p.k;
  let ci = (i / (p.k * p.k)) % p.cin;
  let co = i / (p.k * p.k * p.cin);
  var acc = 0.0;
  for (var n = 0u; n < p.n; n++) {
    for (var oy = 0u; oy < p.ho; oy++) {
      let iy = i32(oy * p.s + kh) - i32(p.pad);
      if (iy < 0 || iy >= i32(p.h)) { continue; }
      for (var ox = 0u; ox < p.wo; ox++) {
        let ix = i32(ox * p.s + kw) - i32(p.pad);
        if (ix < 0 || ix >= i32(p.w)) { continue; }
        acc += dy[((n * p.cout + co) * p.ho + oy) * p.wo + ox] * x[((n * p.cin + ci) * p.h + u32(iy)) * p.w + u32(ix)];
      }
    }
  }
  dw[i] += acc;
}
