// conv2d_bwd_weight_flat: conv2d_bwd_weight_blocked with dy read as it lies in memory: an rgba32float texture
// filled by copyBufferToTexture (texel i = dy values 4i .. 4i+3 of the flat (N, Cout, Ho, Wo) chunk), so no
// pack kernel runs. Packing dy 4 channels a texel (conv2d_pack_w) cost more than the weight gradient itself
// on llvmpipe for large dy (1.9 ms vs 0.5 ms for the tiny classifier's stem: texel-scattered stores), while a
// buffer-to-texture copy is a memcpy. Needs Wo % 4 == 0: a run of 4 output pixels of one row and one channel
// is then one aligned texel, so a run still costs 8 texel loads for 8 channels (one per channel instead of
// 2 per pixel), transposed in registers into the per-pixel channel vectors of the blocked kernel.
// dw[co, ci, kh, kw] (+)= sum over images n of this split, oy, ox of
//   dy[n, co, oy, ox] * x[n, ci, oy*S + kh - PAD, ox*S + kw - PAD].
// Each invocation owns 8 output channels x one (ci, kh) x all K taps kw (8*K scalar accumulators) and walks
// its images' output rows in runs of 4 pixels, loading the x row segment the run needs ((4-1)*S + K values).
// Split-K over images exposes parallelism: with SPLIT = 0 the sums are added to dw directly, else written to
// part[split] for conv2d_bwd_weight_reduce.
// Bindings: 0 xt texture_storage_2d<r32float, read>: texel (i % 4096, i / 4096) = x flat (N, Cin, H, W) of the batch
//             chunk; 1 dyt texture_storage_2d<rgba32float, read>: texel (i % 1024, i / 1024) = dy flat values
//             4i .. 4i+3 of the chunk;
//           2 out: dw (Cout, Cin, K, K) read_write (SPLIT = 0) or part (splits, Cout, Cin, K, K) (SPLIT = 1);
//           3 uniform Params (total = spl*Cin*K invocations (split, ci, kh), nb = images in the chunk,
//             per = images a split, s0 = first split index of this chunk).
// Dispatch: (gx, gy, ceil(Cout / 8)): gx*gy >= ceil(total / WG) groups folded by grid1d, z = channel block.
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;
override SPLIT: u32 = 0u;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32,
  nb: u32, per: u32, s0: u32,
}

@group(0) @binding(0) var xt: texture_storage_2d<r32float, read>;
@group(0) @binding(1) var dyt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> outp: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn ldx(i: i32, ok: bool) -> f32 {
  return select(0.0, textureLoad(xt, vec2<i32>(i & 4095, i >> 12u)).x, ok);
}

// 4 consecutive dy values from flat texel i (a run of 4 pixels of one channel), or 0 for a channel past Cout.
fn ldy(i: u32, ok: bool) -> vec4<f32> {
  return select(vec4<f32>(0.0), textureLoad(dyt, vec2<u32>(i & 1023u, i >> 10u)), ok);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blk = (wid.x + wid.y * nwg.x) * WG + lid;
  let bc = min(blk, p.total - 1u);
  let kh = bc % K;
  let ci = (bc / K) % p.cin;
  let sp = bc / (K * p.cin);
  let cb = wid.z * 8u;
  let pl = p.ho * p.wo / 4u;
  let nlo = sp * p.per;
  let nhi = min(nlo + p.per, p.nb);
  let W = i32(p.w);
  let H = i32(p.h);
  let seg = 3u * S + K;
  var a0_0 = 0.0; var a0_1 = 0.0; var a0_2 = 0.0; var a0_3 = 0.0; var a0_4 = 0.0;
  var a1_0 = 0.0; var a1_1 = 0.0; var a1_2 = 0.0; var a1_3 = 0.0; var a1_4 = 0.0;
  var a2_0 = 0.0; var a2_1 = 0.0; var a2_2 = 0.0; var a2_3 = 0.0; var a2_4 = 0.0;
  var a3_0 = 0.0; var a3_1 = 0.0; var a3_2 = 0.0; var a3_3 = 0.0; var a3_4 = 0.0;
  var a4_0 = 0.0; var a4_1 = 0.0; var a4_2 = 0.0; var a4_3 = 0.0; var a4_4 = 0.0;
  var a5_0 = 0.0; var a5_1 = 0.0; var a5_2 = 0.0; var a5_3 = 0.0; var a5_4 = 0.0;
  var a6_0 = 0.0; var a6_1 = 0.0; var a6_2 = 0.0; var a6_3 = 0.0; var a6_4 = 0.0;
  var a7_0 = 0.0; var a7_1 = 0.0; var a7_2 = 0.0; var a7_3 = 0.0; var a7_4 = 0.0;
  for (var n = nlo; n < nhi; n++) {
    let xc = i32((n * p.cin + ci) * p.h * p.w);
    for (var oy = 0u; oy < p.ho; oy++) {
      let iy = i32(oy * S + kh) - i32(p.pad);
      let rok = iy >= 0 && iy < H;
      let xr = xc + iy * W;
      let drow = ((n * p.cout + cb) * p.ho + oy) * p.wo / 4u;
      for (var ox0 = 0u; ox0 < p.wo; ox0 += 4u) {
        let ix = i32(ox0 * S) - i32(p.pad);
        var sg: array<f32, 12>;
        sg[0] = ldx(xr + ix + 0, rok && ix + 0 >= 0 && ix + 0 < W);
        sg[1] = ldx(xr + ix + 1, rok && ix + 1 >= 0 && ix + 1 < W);
        sg[2] = ldx(xr + ix + 2, rok && ix + 2 >= 0 && ix + 2 < W);
        sg[3] = ldx(xr + ix + 3, rok && ix + 3 >= 0 && ix + 3 < W);
        if (seg > 4u) { sg[4] = ldx(xr + ix + 4, rok && ix + 4 >= 0 && ix + 4 < W); }
        if (seg > 5u) { sg[5] = ldx(xr + ix + 5, rok && ix + 5 >= 0 && ix + 5 < W); }
        if (seg > 6u) { sg[6] = ldx(xr + ix + 6, rok && ix + 6 >= 0 && ix + 6 < W); }
        if (seg > 7u) { sg[7] = ldx(xr + ix + 7, rok && ix + 7 >= 0 && ix + 7 < W); }
        if (seg > 8u) { sg[8] = ldx(xr + ix + 8, rok && ix + 8 >= 0 && ix + 8 < W); }
        if (seg > 9u) { sg[9] = ldx(xr + ix + 9, rok && ix + 9 >= 0 && ix + 9 < W); }
        if (seg > 10u) { sg[10] = ldx(xr + ix + 10, rok && ix + 10 >= 0 && ix + 10 < W); }
        if (seg > 11u) { sg[11] = ldx(xr + ix + 11, rok && ix + 11 >= 0 && ix + 11 < W); }
        let q = drow + ox0 / 4u;
        let d0 = ldy(q, cb < p.cout);
        let d1 = ldy(q + pl, cb + 1u < p.cout);
        let d2 = ldy(q + 2u * pl, cb + 2u < p.cout);
        let d3 = ldy(q + 3u * pl, cb + 3u < p.cout);
        let d4 = ldy(q + 4u * pl, cb + 4u < p.cout);
        let d5 = ldy(q + 5u * pl, cb + 5u < p.cout);
        let d6 = ldy(q + 6u * pl, cb + 6u < p.cout);
        let d7 = ldy(q + 7u * pl, cb + 7u < p.cout);
        {
          let dl = vec4<f32>(d0.x, d1.x, d2.x, d3.x);
          let dh = vec4<f32>(d4.x, d5.x, d6.x, d7.x);
          let xv = sg[0u * S + 0u];
          a0_0 = fma(dl.x, xv, a0_0);
          a1_0 = fma(dl.y, xv, a1_0);
          a2_0 = fma(dl.z, xv, a2_0);
          a3_0 = fma(dl.w, xv, a3_0);
          a4_0 = fma(dh.x, xv, a4_0);
          a5_0 = fma(dh.y, xv, a5_0);
          a6_0 = fma(dh.z, xv, a6_0);
          a7_0 = fma(dh.w, xv, a7_0);
          if (K > 1u) {
            let xv = sg[0u * S + 1u];
            a0_1 = fma(dl.x, xv, a0_1);
            a1_1 = fma(dl.y, xv, a1_1);
            a2_1 = fma(dl.z, xv, a2_1);
            a3_1 = fma(dl.w, xv, a3_1);
            a4_1 = fma(dh.x, xv, a4_1);
            a5_1 = fma(dh.y, xv, a5_1);
            a6_1 = fma(dh.z, xv, a6_1);
            a7_1 = fma(dh.w, xv, a7_1);
          }
          if (K > 2u) {
            let xv = sg[0u * S + 2u];
            a0_2 = fma(dl.x, xv, a0_2);
            a1_2 = fma(dl.y, xv, a1_2);
            a2_2 = fma(dl.z, xv, a2_2);
            a3_2 = fma(dl.w, xv, a3_2);
            a4_2 = fma(dh.x, xv, a4_2);
            a5_2 = fma(dh.y, xv, a5_2);
            a6_2 = fma(dh.z, xv, a6_2);
            a7_2 = fma(dh.w, xv, a7_2);
          }
          if (K > 3u) {
            let xv = sg[0u * S + 3u];
            a0_3 = fma(dl.x, xv, a0_3);
            a1_3 = fma(dl.y, xv, a1_3);
            a2_3 = fma(dl.z, xv, a2_3);
            a3_3 = fma(dl.w, xv, a3_3);
            a4_3 = fma(dh.x, xv, a4_3);
            a5_3 = fma(dh.y, xv, a5_3);
            a6_3 = fma(dh.z, xv, a6_3);
            a7_3 = fma(dh.w, xv, a7_3);
          }
          if (K > 4u) {
            let xv = sg[0u * S + 4u];
            a0_4 = fma(dl.x, xv, a0_4);
            a1_4 = fma(dl.y, xv, a1_4);
            a2_4 = fma(dl.z, xv, a2_4);
            a3_4 = fma(dl.w, xv, a3_4);
            a4_4 = fma(dh.x, xv, a4_4);
            a5_4 = fma(dh.y, xv, a5_4);
            a6_4 = fma(dh.z, xv, a6_4);
            a7_4 = fma(dh.w, xv, a7_4);
          }
        }
        {
          let dl = vec4<f32>(d0.y, d1.y, d2.y, d3.y);
          let dh = vec4<f32>(d4.y, d5.y, d6.y, d7.y);
          let xv = sg[1u * S + 0u];
          a0_0 = fma(dl.x, xv, a0_0);
          a1_0 = fma(dl.y, xv, a1_0);
          a2_0 = fma(dl.z, xv, a2_0);
          a3_0 = fma(dl.w, xv, a3_0);
          a4_0 = fma(dh.x, xv, a4_0);
          a5_0 = fma(dh.y, xv, a5_0);
          a6_0 = fma(dh.z, xv, a6_0);
          a7_0 = fma(dh.w, xv, a7_0);
          if (K > 1u) {
            let xv = sg[1u * S + 1u];
            a0_1 = fma(dl.x, xv, a0_1);
            a1_1 = fma(dl.y, xv, a1_1);
            a2_1 = fma(dl.z, xv, a2_1);
            a3_1 = fma(dl.w, xv, a3_1);
            a4_1 = fma(dh.x, xv, a4_1);
            a5_1 = fma(dh.y, xv, a5_1);
            a6_1 = fma(dh.z, xv, a6_1);
            a7_1 = fma(dh.w, xv, a7_1);
          }
          if (K > 2u) {
            let xv = sg[1u * S + 2u];
            a0_2 = fma(dl.x, xv, a0_2);
            a1_2 = fma(dl.y, xv, a1_2);
            a2_2 = fma(dl.z, xv, a2_2);
            a3_2 = fma(dl.w, xv, a3_2);
            a4_2 = fma(dh.x, xv, a4_2);
            a5_2 = fma(dh.y, xv, a5_2);
            a6_2 = fma(dh.z, xv, a6_2);
            a7_2 = fma(dh.w, xv, a7_2);
          }
          if (K > 3u) {
            let xv = sg[1u * S + 3u];
            a0_3 = fma(dl.x, xv, a0_3);
            a1_3 = fma(dl.y, xv, a1_3);
            a2_3 = fma(dl.z, xv, a2_3);
            a3_3 = fma(dl.w, xv, a3_3);
            a4_3 = fma(dh.x, xv, a4_3);
            a5_3 = fma(dh.y, xv, a5_3);
            a6_3 = fma(dh.z, xv, a6_3);
            a7_3 = fma(dh.w, xv, a7_3);
          }
          if (K > 4u) {
            let xv = sg[1u * S + 4u];
            a0_4 = fma(dl.x, xv, a0_4);
            a1_4 = fma(dl.y, xv, a1_4);
            a2_4 = fma(dl.z, xv, a2_4);
            a3_4 = fma(dl.w, xv, a3_4);
            a4_4 = fma(dh.x, xv, a4_4);
            a5_4 = fma(dh.y, xv, a5_4);
            a6_4 = fma(dh.z, xv, a6_4);
            a7_4 = fma(dh.w, xv, a7_4);
          }
        }
        {
          let dl = vec4<f32>(d0.z, d1.z, d2.z, d3.z);
          let dh = vec4<f32>(d4.z, d5.z, d6.z, d7.z);
          let xv = sg[2u * S + 0u];
          a0_0 = fma(dl.x, xv, a0_0);
          a1_0 = fma(dl.y, xv, a1_0);
          a2_0 = fma(dl.z, xv, a2_0);
          a3_0 = fma(dl.w, xv, a3_0);
          a4_0 = fma(dh.x, xv, a4_0);
          a5_0 = fma(dh.y, xv, a5_0);
          a6_0 = fma(dh.z, xv, a6_0);
          a7_0 = fma(dh.w, xv, a7_0);
          if (K > 1u) {
            let xv = sg[2u * S + 1u];
            a0_1 = fma(dl.x, xv, a0_1);
            a1_1 = fma(dl.y, xv, a1_1);
            a2_1 = fma(dl.z, xv, a2_1);
            a3_1 = fma(dl.w, xv, a3_1);
            a4_1 = fma(dh.x, xv, a4_1);
            a5_1 = fma(dh.y, xv, a5_1);
            a6_1 = fma(dh.z, xv, a6_1);
            a7_1 = fma(dh.w, xv, a7_1);
          }
          if (K > 2u) {
            let xv = sg[2u * S + 2u];
            a0_2 = fma(dl.x, xv, a0_2);
            a1_2 = fma(dl.y, xv, a1_2);
            a2_2 = fma(dl.z, xv, a2_2);
            a3_2 = fma(dl.w, xv, a3_2);
            a4_2 = fma(dh.x, xv, a4_2);
            a5_2 = fma(dh.y, xv, a5_2);
            a6_2 = fma(dh.z, xv, a6_2);
            a7_2 = fma(dh.w, xv, a7_2);
          }
          if (K > 3u) {
            let xv = sg[2u * S + 3u];
            a0_3 = fma(dl.x, xv, a0_3);
            a1_3 = fma(dl.y, xv, a1_3);
            a2_3 = fma(dl.z, xv, a2_3);
            a3_3 = fma(dl.w, xv, a3_3);
            a4_3 = fma(dh.x, xv, a4_3);
            a5_3 = fma(dh.y, xv, a5_3);
            a6_3 = fma(dh.z, xv, a6_3);
            a7_3 = fma(dh.w, xv, a7_3);
          }
          if (K > 4u) {
            let xv = sg[2u * S + 4u];
            a0_4 = fma(dl.x, xv, a0_4);
            a1_4 = fma(dl.y, xv, a1_4);
            a2_4 = fma(dl.z, xv, a2_4);
            a3_4 = fma(dl.w, xv, a3_4);
            a4_4 = fma(dh.x, xv, a4_4);
            a5_4 = fma(dh.y, xv, a5_4);
            a6_4 = fma(dh.z, xv, a6_4);
            a7_4 = fma(dh.w, xv, a7_4);
          }
        }
        {
          let dl = vec4<f32>(d0.w, d1.w, d2.w, d3.w);
          let dh = vec4<f32>(d4.w, d5.w, d6.w, d7.w);
          let xv = sg[3u * S + 0u];
          a0_0 = fma(dl.x, xv, a0_0);
          a1_0 = fma(dl.y, xv, a1_0);
          a2_0 = fma(dl.z, xv, a2_0);
          a3_0 = fma(dl.w, xv, a3_0);
          a4_0 = fma(dh.x, xv, a4_0);
          a5_0 = fma(dh.y, xv, a5_0);
          a6_0 = fma(dh.z, xv, a6_0);
          a7_0 = fma(dh.w, xv, a7_0);
          if (K > 1u) {
            let xv = sg[3u * S + 1u];
            a0_1 = fma(dl.x, xv, a0_1);
            a1_1 = fma(dl.y, xv, a1_1);
            a2_1 = fma(dl.z, xv, a2_1);
            a3_1 = fma(dl.w, xv, a3_1);
            a4_1 = fma(dh.x, xv, a4_1);
            a5_1 = fma(dh.y, xv, a5_1);
            a6_1 = fma(dh.z, xv, a6_1);
            a7_1 = fma(dh.w, xv, a7_1);
          }
          if (K > 2u) {
            let xv = sg[3u * S + 2u];
            a0_2 = fma(dl.x, xv, a0_2);
            a1_2 = fma(dl.y, xv, a1_2);
            a2_2 = fma(dl.z, xv, a2_2);
            a3_2 = fma(dl.w, xv, a3_2);
            a4_2 = fma(dh.x, xv, a4_2);
            a5_2 = fma(dh.y, xv, a5_2);
            a6_2 = fma(dh.z, xv, a6_2);
            a7_2 = fma(dh.w, xv, a7_2);
          }
          if (K > 3u) {
            let xv = sg[3u * S + 3u];
            a0_3 = fma(dl.x, xv, a0_3);
            a1_3 = fma(dl.y, xv, a1_3);
            a2_3 = fma(dl.z, xv, a2_3);
            a3_3 = fma(dl.w, xv, a3_3);
            a4_3 = fma(dh.x, xv, a4_3);
            a5_3 = fma(dh.y, xv, a5_3);
            a6_3 = fma(dh.z, xv, a6_3);
            a7_3 = fma(dh.w, xv, a7_3);
          }
          if (K > 4u) {
            let xv = sg[3u * S + 4u];
            a0_4 = fma(dl.x, xv, a0_4);
            a1_4 = fma(dl.y, xv, a1_4);
            a2_4 = fma(dl.z, xv, a2_4);
            a3_4 = fma(dl.w, xv, a3_4);
            a4_4 = fma(dh.x, xv, a4_4);
            a5_4 = fma(dh.y, xv, a5_4);
            a6_4 = fma(dh.z, xv, a6_4);
            a7_4 = fma(dh.w, xv, a7_4);
          }
        }
      }
    }
  }
  if (blk >= p.total) { return; }
  let kk = K * K;
  let m = p.cout * p.cin * kk;
  let co0 = wid.z * 8u;
  if (co0 + 0u < p.cout) {
    let o = ((co0 + 0u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a0_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a0_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a0_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a0_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a0_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a0_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a0_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a0_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a0_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a0_4; } }
  }
  if (co0 + 1u < p.cout) {
    let o = ((co0 + 1u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a1_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a1_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a1_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a1_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a1_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a1_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a1_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a1_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a1_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a1_4; } }
  }
  if (co0 + 2u < p.cout) {
    let o = ((co0 + 2u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a2_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a2_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a2_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a2_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a2_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a2_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a2_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a2_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a2_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a2_4; } }
  }
  if (co0 + 3u < p.cout) {
    let o = ((co0 + 3u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a3_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a3_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a3_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a3_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a3_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a3_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a3_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a3_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a3_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a3_4; } }
  }
  if (co0 + 4u < p.cout) {
    let o = ((co0 + 4u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a4_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a4_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a4_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a4_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a4_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a4_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a4_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a4_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a4_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a4_4; } }
  }
  if (co0 + 5u < p.cout) {
    let o = ((co0 + 5u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a5_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a5_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a5_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a5_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a5_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a5_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a5_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a5_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a5_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a5_4; } }
  }
  if (co0 + 6u < p.cout) {
    let o = ((co0 + 6u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a6_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a6_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a6_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a6_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a6_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a6_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a6_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a6_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a6_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a6_4; } }
  }
  if (co0 + 7u < p.cout) {
    let o = ((co0 + 7u) * p.cin + ci) * kk + kh * K;
    { if (SPLIT == 0u) { outp[o + 0u] += a7_0; } else { outp[(p.s0 + sp) * m + o + 0u] = a7_0; } }
    if (K > 1u) { if (SPLIT == 0u) { outp[o + 1u] += a7_1; } else { outp[(p.s0 + sp) * m + o + 1u] = a7_1; } }
    if (K > 2u) { if (SPLIT == 0u) { outp[o + 2u] += a7_2; } else { outp[(p.s0 + sp) * m + o + 2u] = a7_2; } }
    if (K > 3u) { if (SPLIT == 0u) { outp[o + 3u] += a7_3; } else { outp[(p.s0 + sp) * m + o + 3u] = a7_3; } }
    if (K > 4u) { if (SPLIT == 0u) { outp[o + 4u] += a7_4; } else { outp[(p.s0 + sp) * m + o + 4u] = a7_4; } }
  }
}
