// conv2d_fwd_blocked: y = conv2d(x, w) + b, register-blocked for CPU-like devices (llvmpipe).
// Each invocation computes COB output channels x 4 consecutive output pixels of one row (vec4 accumulators).
// The output-channel block comes from the workgroup id, so every weight load has the same address in all
// invocations of a workgroup (llvmpipe then loads it once and broadcasts it); only input loads differ per
// invocation, and each is reused COB times. No early return before the main loop (control flow around it
// would turn the uniform loads into per-invocation ones); out-of-range invocations compute on clamped
// indices and skip the store.
// Bindings: 0 x (N, Cin, H, W) read; 1 w (Cout, Cin, K, K) read; 2 b (Cout) read (HAS_BIAS = 0 skips it);
//           3 y (N, Cout, Ho, Wo) write; 4 uniform Params (wb = ceil(Wo / 4) pixel blocks a row,
//           total = N*Ho*wb pixel blocks).
// Dispatch: (gx, gy, ceil(Cout / COB)): gx*gy >= ceil(total / WG) groups folded by grid1d (flat = x + y*nx),
//           z = output-channel block. K (kernel size) and S (stride) are override constants so loops unroll.
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;
override HAS_BIAS: u32 = 1u;
const COB: u32 = 8u;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32, wb: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blk = (wid.x + wid.y * nwg.x) * WG + lid;
  let bc = min(blk, p.total - 1u);
  let ox0 = (bc % p.wb) * 4u;
  let oy = (bc / p.wb) % p.ho;
  let n = bc / (p.wb * p.ho);
  let co0 = wid.z * COB;
  let kk = K * K;
  let cinkk = p.cin * kk;
  let wlast = p.cout * cinkk - 1u;
  let hw = p.h * p.w;
  let wmax = i32(p.w) - 1;
  let ix0 = i32(ox0 * S) - i32(p.pad);
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  for (var ci = 0u; ci < p.cin; ci++) {
    let xc = (n * p.cin + ci) * hw;
    let wc = co0 * cinkk + ci * kk;
    for (var kh = 0u; kh < K; kh++) {
      let iy = i32(oy * S + kh) - i32(p.pad);
      let rowok = iy >= 0 && iy < i32(p.h);
      let xr = xc + u32(clamp(iy, 0, i32(p.h) - 1)) * p.w;
      for (var kw = 0u; kw < K; kw++) {
        let c0 = ix0 + i32(kw);
        let c1 = c0 + i32(S);
        let c2 = c1 + i32(S);
        let c3 = c2 + i32(S);
        let xv = vec4<f32>(
          select(0.0, x[xr + u32(clamp(c0, 0, wmax))], rowok && c0 >= 0 && c0 <= wmax),
          select(0.0, x[xr + u32(clamp(c1, 0, wmax))], rowok && c1 >= 0 && c1 <= wmax),
          select(0.0, x[xr + u32(clamp(c2, 0, wmax))], rowok && c2 >= 0 && c2 <= wmax),
          select(0.0, x[xr + u32(clamp(c3, 0, wmax))], rowok && c3 >= 0 && c3 <= wmax),
        );
        let wk = wc + kh * K + kw;
        a0 += xv * w[min(wk, wlast)];
        a1 += xv * w[min(wk + cinkk, wlast)];
        a2 += xv * w[min(wk + 2u * cinkk, wlast)];
        a3 += xv * w[min(wk + 3u * cinkk, wlast)];
        a4 += xv * w[min(wk + 4u * cinkk, wlast)];
        a5 += xv * w[min(wk + 5u * cinkk, wlast)];
        a6 += xv * w[min(wk + 6u * cinkk, wlast)];
        a7 += xv * w[min(wk + 7u * cinkk, wlast)];
      }
    }
  }
  if (blk >= p.total) { return; }
  let hwo = p.ho * p.wo;
  let acc = array<vec4<f32>, COB>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var c = 0u; c < COB; c++) {
    let co = co0 + c;
    if (co >= p.cout) { break; }
    var v = acc[c];
    if (HAS_BIAS == 1u) { v += vec4<f32>(b[co]); }
    let o = (n * p.cout + co) * hwo + oy * p.wo + ox0;
    for (var j = 0u; j < 4u; j++) {
      if (ox0 + j < p.wo) { y[o + j] = v[j]; }
    }
  }
}
