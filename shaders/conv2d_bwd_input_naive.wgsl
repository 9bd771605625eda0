// conv2d_bwd_input_naive: dx[n, ci, iy, ix] = sum over co, kh, kw of dy[n, co, oy, ox] * w[co, ci, kh, kw]
// where oy = (iy + PAD - kh) / S and ox = (ix + PAD - kw) / S divide exactly and lie inside (Ho, Wo).
// Writes dx (=). One dx value per invocation (reference kernel, kept for debugging).
// Bindings: 0 dy (N, Cout, Ho, Wo) read; 1 w (Cout, Cin, K, K) read; 2 dx (N, Cin, H, W) write;
//           3 uniform Params (total = N*Cin*H*W).
// Dispatch: 1-D over N*Cin*H*W, WG a group, folded into 2-D by grid1d.
override WG: u32 = 64;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let ix = i % p.w;
  let iy = (i / p.w) % p.h;
  let ci = (i / (p.w * p.h)) % p.cin;
  let n = i / (p.w * p.h * p.cin);
  var acc = 0.0;
  for (var co = 0u; co < p.cout; co++) {
    for (var kh = 0u; kh < p.k; kh++) {
      let ty = i32(iy + p.pad) - i32(kh);
      if (ty < 0 || ty % i32(p.s) != 0 || ty / i32(p.s) >= i32(p.ho)) { continue; }
      let oy = u32(ty) / p.s;
      for (var kw = 0u; kw < p.k; kw++) {
        let tx = i32(ix + p.pad) - i32(kw);
        if (tx < 0 || tx % i32(p.s) != 0 || tx / i32(p.s) >= i32(p.wo)) { continue; }
        let ox = u32(tx) / p.s;
        acc += dy[((n * p.cout + co) * p.ho + oy) * p.wo + ox] * w[((co * p.cin + ci) * p.k + kh) * p.k + kw];
      }
    }
  }
  dx[i] = acc;
}
