// conv_t2d_bwd_input_naive: gradient of a transposed 2-D convolution wrt its input (an ordinary strided
// convolution of dy), one output per invocation, written (=):
// dx[n, ci, iy, ix] = sum over co, ky, kx of dy[n, co, iy * stride - pad + ky, ix * stride - pad + kx] * w[ci, co, ky, kx]
// (terms outside dy are zero).
// Shapes: dy (N, Cout, Ho, Wo); w (Cin, Cout, K, K); dx (N, Cin, H, W).
// Bindings: 0 dy read; 1 w read; 2 dx read_write; 3 uniform { n, cin, h, w, cout, k, stride, pad, ho, wo: u32 }.
// Dispatch: 1-D over N*Cin*H*W outputs, WG a group, folded by grid1d (flat group = x + y * nx).
override WG: u32 = 64u;

struct Params { n: u32, cin: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n * p.cin * p.h * p.w) { return; }
  let ix = i32(i % p.w);
  let iy = i32((i / p.w) % p.h);
  let ci = (i / (p.w * p.h)) % p.cin;
  let n = i / (p.w * p.h * p.cin);
  var acc = 0.0;
  for (var co = 0u; co < p.cout; co++) {
    for (var ky = 0u; ky < p.k; ky++) {
      let oy = iy * i32(p.stride) - i32(p.pad) + i32(ky);
      if (oy < 0 || oy >= i32(p.ho)) { continue; }
      for (var kx = 0u; kx < p.k; kx++) {
        let ox = ix * i32(p.stride) - i32(p.pad) + i32(kx);
        if (ox < 0 || ox >= i32(p.wo)) { continue; }
        acc = fma(dy[((n * p.cout + co) * p.ho + u32(oy)) * p.wo + u32(ox)], w[((ci * p.cout + co) * p.k + ky) * p.k + kx], acc);
      }
    }
  }
  dx[i] = acc;
}
