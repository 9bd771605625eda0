// conv2d_fwd_blocked: y = conv2d(x, w) + b, register-blocked for CPU-like devices (llvmpipe).
// Each invocation computes 8 output channels x 4 consecutive output pixels of one row (8 vec4 accumulators).
// For each (ci, kh) it loads the input row segment the 4 pixels need once ((4-1)*S + K values, reused over
// kw), and per kw two rgba texels of packed weights (8 output channels); every load is a textureLoad
// (llvmpipe: one vector gather; storage-buffer loads are per-lane loops there). Zero padding by select.
// K (kernel size) and S (stride, 1 or 2: the segment holds 12 values) are override constants, so the kw
// taps and the segment loads unroll (hand-written below, guarded by constant conditions).
// Bindings: 0 xt texture_storage_2d<r32float, read>: texel (i % 4096, i / 4096) = x[n0 + ...] flat (N, Cin, H, W);
//           1 wt texture_storage_2d<rgba32float, read> (conv2d_pack_w): texel (co/4, (ci*K + kh)*K + kw) =
//             w[co..co+3, ci, kh, kw], zero padded to a multiple of 8 output channels;
//           2 b (Cout) read (HAS_BIAS = 0 skips it); 3 y (N, Cout, Ho, Wo) write;
//           4 uniform Params (wb = ceil(Wo / 4) pixel blocks a row, total = nb*Ho*wb pixel blocks of this
//             batch chunk, n0 = its first image).
// Dispatch: (gx, gy, ceil(Cout / 8)): gx*gy >= ceil(total / WG) groups folded by grid1d (flat = x + y*nx),
//           z = output-channel block.
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;
override HAS_BIAS: u32 = 1u;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32, wb: u32,
  n0: u32,
}

@group(0) @binding(0) var xt: texture_storage_2d<r32float, read>;
@group(0) @binding(1) var wt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// x value at flat index i (of the chunk) if bit j of the validity mask m is set, else 0 (zero padding).
fn ld(i: i32, m: u32, j: u32) -> f32 {
  let v = textureLoad(xt, vec2<i32>(i & 4095, i >> 12u)).x;
  return select(0.0, v, ((m >> j) & 1u) != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blk = (wid.x + wid.y * nwg.x) * WG + lid;
  let bc = min(blk, p.total - 1u);
  let ox0 = (bc % p.wb) * 4u;
  let oy = (bc / p.wb) % p.ho;
  let n = bc / (p.wb * p.ho);
  let cq = wid.z * 2u;
  let W = i32(p.w);
  let H = i32(p.h);
  let ix0 = i32(ox0 * S) - i32(p.pad);
  // bit j: column ix0 + j lies inside the image
  var cm = 0u;
  for (var j = 0u; j < 12u; j++) {
    let c = ix0 + i32(j);
    if (c >= 0 && c < W) { cm |= 1u << j; }
  }
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  let seg = 3u * S + K;
  for (var ci = 0u; ci < p.cin; ci++) {
    let xc = i32((n * p.cin + ci) * p.h * p.w) + ix0;
    let rw = ci * K * K;
    for (var kh = 0u; kh < K; kh++) {
      let iy = i32(oy * S + kh) - i32(p.pad);
      let m = select(0u, cm, iy >= 0 && iy < H);
      let xr = xc + iy * W;
      var sg: array<f32, 12>;
      sg[0] = ld(xr + 0, m, 0u);
      sg[1] = ld(xr + 1, m, 1u);
      sg[2] = ld(xr + 2, m, 2u);
      sg[3] = ld(xr + 3, m, 3u);
      if (seg > 4u) { sg[4] = ld(xr + 4, m, 4u); }
      if (seg > 5u) { sg[5] = ld(xr + 5, m, 5u); }
      if (seg > 6u) { sg[6] = ld(xr + 6, m, 6u); }
      if (seg > 7u) { sg[7] = ld(xr + 7, m, 7u); }
      if (seg > 8u) { sg[8] = ld(xr + 8, m, 8u); }
      if (seg > 9u) { sg[9] = ld(xr + 9, m, 9u); }
      if (seg > 10u) { sg[10] = ld(xr + 10, m, 10u); }
      if (seg > 11u) { sg[11] = ld(xr + 11, m, 11u); }
      let r = rw + kh * K;
      {
        let wl = textureLoad(wt, vec2<u32>(cq, r + 0u));
        let wh = textureLoad(wt, vec2<u32>(cq + 1u, r + 0u));
        let xv = vec4<f32>(sg[0u], sg[0u + S], sg[0u + 2u * S], sg[0u + 3u * S]);
        a0 = fma(xv, vec4<f32>(wl.x), a0);
        a1 = fma(xv, vec4<f32>(wl.y), a1);
        a2 = fma(xv, vec4<f32>(wl.z), a2);
        a3 = fma(xv, vec4<f32>(wl.w), a3);
        a4 = fma(xv, vec4<f32>(wh.x), a4);
        a5 = fma(xv, vec4<f32>(wh.y), a5);
        a6 = fma(xv, vec4<f32>(wh.z), a6);
        a7 = fma(xv, vec4<f32>(wh.w), a7);
      }
      if (K > 1u) {
        {
          let wl = textureLoad(wt, vec2<u32>(cq, r + 1u));
          let wh = textureLoad(wt, vec2<u32>(cq + 1u, r + 1u));
          let xv = vec4<f32>(sg[1u], sg[1u + S], sg[1u + 2u * S], sg[1u + 3u * S]);
          a0 = fma(xv, vec4<f32>(wl.x), a0);
          a1 = fma(xv, vec4<f32>(wl.y), a1);
          a2 = fma(xv, vec4<f32>(wl.z), a2);
          a3 = fma(xv, vec4<f32>(wl.w), a3);
          a4 = fma(xv, vec4<f32>(wh.x), a4);
          a5 = fma(xv, vec4<f32>(wh.y), a5);
          a6 = fma(xv, vec4<f32>(wh.z), a6);
          a7 = fma(xv, vec4<f32>(wh.w), a7);
        }
      }
      if (K > 2u) {
        {
          let wl = textureLoad(wt, vec2<u32>(cq, r + 2u));
          let wh = textureLoad(wt, vec2<u32>(cq + 1u, r + 2u));
          let xv = vec4<f32>(sg[2u], sg[2u + S], sg[2u + 2u * S], sg[2u + 3u * S]);
          a0 = fma(xv, vec4<f32>(wl.x), a0);
          a1 = fma(xv, vec4<f32>(wl.y), a1);
          a2 = fma(xv, vec4<f32>(wl.z), a2);
          a3 = fma(xv, vec4<f32>(wl.w), a3);
          a4 = fma(xv, vec4<f32>(wh.x), a4);
          a5 = fma(xv, vec4<f32>(wh.y), a5);
          a6 = fma(xv, vec4<f32>(wh.z), a6);
          a7 = fma(xv, vec4<f32>(wh.w), a7);
        }
      }
      if (K > 3u) {
        {
          let wl = textureLoad(wt, vec2<u32>(cq, r + 3u));
          let wh = textureLoad(wt, vec2<u32>(cq + 1u, r + 3u));
          let xv = vec4<f32>(sg[3u], sg[3u + S], sg[3u + 2u * S], sg[3u + 3u * S]);
          a0 = fma(xv, vec4<f32>(wl.x), a0);
          a1 = fma(xv, vec4<f32>(wl.y), a1);
          a2 = fma(xv, vec4<f32>(wl.z), a2);
          a3 = fma(xv, vec4<f32>(wl.w), a3);
          a4 = fma(xv, vec4<f32>(wh.x), a4);
          a5 = fma(xv, vec4<f32>(wh.y), a5);
          a6 = fma(xv, vec4<f32>(wh.z), a6);
          a7 = fma(xv, vec4<f32>(wh.w), a7);
        }
      }
      if (K > 4u) {
        {
          let wl = textureLoad(wt, vec2<u32>(cq, r + 4u));
          let wh = textureLoad(wt, vec2<u32>(cq + 1u, r + 4u));
          let xv = vec4<f32>(sg[4u], sg[4u + S], sg[4u + 2u * S], sg[4u + 3u * S]);
          a0 = fma(xv, vec4<f32>(wl.x), a0);
          a1 = fma(xv, vec4<f32>(wl.y), a1);
          a2 = fma(xv, vec4<f32>(wl.z), a2);
          a3 = fma(xv, vec4<f32>(wl.w), a3);
          a4 = fma(xv, vec4<f32>(wh.x), a4);
          a5 = fma(xv, vec4<f32>(wh.y), a5);
          a6 = fma(xv, vec4<f32>(wh.z), a6);
          a7 = fma(xv, vec4<f32>(wh.w), a7);
        }
      }
    }
  }
  if (blk >= p.total) { return; }
  let acc = array<vec4<f32>, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  let hwo = p.ho * p.wo;
  let co0 = wid.z * 8u;
  for (var c = 0u; c < 8u; c++) {
    let co = co0 + c;
    if (co >= p.cout) { break; }
    var v = acc[c];
    if (HAS_BIAS == 1u) { v += vec4<f32>(b[co]); }
    let o = ((p.n0 + n) * p.cout + co) * hwo + oy * p.wo + ox0;
    for (var j = 0u; j < 4u; j++) {
      if (ox0 + j < p.wo) { y[o + j] = v[j]; }
    }
  }
}
