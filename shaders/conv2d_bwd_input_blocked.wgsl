// conv2d_bwd_input_blocked: dx = gradient of conv2d with respect to x (written, =), as a gather:
// dx[n, ci, iy, ix] = sum over co, kh, kw with oy = (iy + PAD - kh) / S, ox = (ix + PAD - kw) / S exact and
// inside (Ho, Wo) of dy[n, co, oy, ox] * w[co, ci, kh, kw]. Register-blocked for llvmpipe like the forward:
// each invocation computes 8 input channels x 4 pixels of one dx row spaced S apart (ix0 + S*j), which share
// their phase, so the valid taps are kh = phy + S*u, kw = phx + S*t (u, t < T = ceil(K / S)) and the 4
// pixels read 4 consecutive dy columns: per (co, u) one dy row segment of T + 3 values serves all taps.
// Both operands come from textures (llvmpipe gathers; storage loads are per-lane loops there).
// Bindings: 0 dyt texture_storage_2d<r32float, read>: texel (i % 4096, i / 4096) = dy flat (N, Cout, Ho, Wo) of the
//             batch chunk starting at image n0;
//           1 wt texture_storage_2d<rgba32float, read> (conv2d_pack_w): texel (ci/4, (co*K + kh)*K + kw) =
//             w[co, ci..ci+3, kh, kw], zero padded to a multiple of 8 input channels;
//           2 dx (N, Cin, H, W) write; 3 uniform Params (wq = S * ceil(ceil(W / S) / 4) pixel blocks a row,
//             total = nb*H*wq blocks of this chunk, n0 = its first image).
// Dispatch: (gx, gy, ceil(Cin / 8)): gx*gy >= ceil(total / WG) groups folded by grid1d (flat = x + y*nx),
//           z = input-channel block. K and S (1 or 2) are override constants so the taps unroll.
override WG: u32 = 64;
override K: u32 = 3;
override S: u32 = 1;

struct Params {
  n: u32, cin: u32, h: u32, w: u32, cout: u32, ho: u32, wo: u32, k: u32, s: u32, pad: u32, total: u32, wq: u32,
  n0: u32,
}

@group(0) @binding(0) var dyt: texture_storage_2d<r32float, read>;
@group(0) @binding(1) var wt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

// dy value at flat index i (of the chunk) if bit j of the validity mask m is set, else 0.
fn ld(i: i32, m: u32, j: u32) -> f32 {
  let v = textureLoad(dyt, vec2<i32>(i & 4095, i >> 12u)).x;
  return select(0.0, v, ((m >> j) & 1u) != 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let blk = (wid.x + wid.y * nwg.x) * WG + lid;
  let bc = min(blk, p.total - 1u);
  let q = bc % p.wq;
  let iy = (bc / p.wq) % p.h;
  let n = bc / (p.wq * p.h);
  let ix0 = S * 4u * (q / S) + q % S;
  let T = (K + S - 1u) / S;
  let phx = (ix0 + p.pad) % S;
  let phy = (iy + p.pad) % S;
  let ox0 = i32((ix0 + p.pad) / S) - i32(T - 1u);
  let oyb = i32((iy + p.pad) / S);
  let WO = i32(p.wo);
  let HO = i32(p.ho);
  // bit m: dy column ox0 + m lies inside the image
  var cm = 0u;
  for (var j = 0u; j < 8u; j++) {
    let c = ox0 + i32(j);
    if (c >= 0 && c < WO) { cm |= 1u << j; }
  }
  // valid kw taps: bit t set when kw = phx + S*t < K
  var tm = 0u;
  for (var t = 0u; t < 5u; t++) {
    if (phx + S * t < K) { tm |= 1u << t; }
  }
  let cq = wid.z * 2u;
  var a0 = vec4<f32>(); var a1 = vec4<f32>(); var a2 = vec4<f32>(); var a3 = vec4<f32>();
  var a4 = vec4<f32>(); var a5 = vec4<f32>(); var a6 = vec4<f32>(); var a7 = vec4<f32>();
  let seg = T + 3u;
  for (var co = 0u; co < p.cout; co++) {
    let dc = i32((n * p.cout + co) * p.ho * p.wo) + ox0;
    for (var u = 0u; u < T; u++) {
      let kh = phy + S * u;
      let oy = oyb - i32(u);
      let m = select(0u, cm, kh < K && oy >= 0 && oy < HO);
      let dr = dc + oy * WO;
      var sg: array<f32, 8>;
      sg[0] = ld(dr + 0, m, 0u);
      sg[1] = ld(dr + 1, m, 1u);
      sg[2] = ld(dr + 2, m, 2u);
      sg[3] = ld(dr + 3, m, 3u);
      if (seg > 4u) { sg[4] = ld(dr + 4, m, 4u); }
      if (seg > 5u) { sg[5] = ld(dr + 5, m, 5u); }
      if (seg > 6u) { sg[6] = ld(dr + 6, m, 6u); }
      if (seg > 7u) { sg[7] = ld(dr + 7, m, 7u); }
      let r = (co * K + min(kh, K - 1u)) * K + phx;
      {
        let ok = select(0.0, 1.0, ((tm >> 0u) & 1u) != 0u);
        let wl = ok * textureLoad(wt, vec2<u32>(cq, r + 0u * S));
        let wh = ok * textureLoad(wt, vec2<u32>(cq + 1u, r + 0u * S));
        let xv = vec4<f32>(sg[max(T, 1u) - 1u], sg[max(T, 1u) - 1u + 1u], sg[max(T, 1u) - 1u + 2u], sg[max(T, 1u) - 1u + 3u]);
        a0 = fma(xv, vec4<f32>(wl.x), a0);
        a1 = fma(xv, vec4<f32>(wl.y), a1);
        a2 = fma(xv, vec4<f32>(wl.z), a2);
        a3 = fma(xv, vec4<f32>(wl.w), a3);
        a4 = fma(xv, vec4<f32>(wh.x), a4);
        a5 = fma(xv, vec4<f32>(wh.y), a5);
        a6 = fma(xv, vec4<f32>(wh.z), a6);
        a7 = fma(xv, vec4<f32>(wh.w), a7);
      }
      if (T > 1u) {
        {
          let ok = select(0.0, 1.0, ((tm >> 1u) & 1u) != 0u);
          let wl = ok * textureLoad(wt, vec2<u32>(cq, r + 1u * S));
          let wh = ok * textureLoad(wt, vec2<u32>(cq + 1u, r + 1u * S));
          let xv = vec4<f32>(sg[max(T, 2u) - 2u], sg[max(T, 2u) - 2u + 1u], sg[max(T, 2u) - 2u + 2u], sg[max(T, 2u) - 2u + 3u]);
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
      if (T > 2u) {
        {
          let ok = select(0.0, 1.0, ((tm >> 2u) & 1u) != 0u);
          let wl = ok * textureLoad(wt, vec2<u32>(cq, r + 2u * S));
          let wh = ok * textureLoad(wt, vec2<u32>(cq + 1u, r + 2u * S));
          let xv = vec4<f32>(sg[max(T, 3u) - 3u], sg[max(T, 3u) - 3u + 1u], sg[max(T, 3u) - 3u + 2u], sg[max(T, 3u) - 3u + 3u]);
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
      if (T > 3u) {
        {
          let ok = select(0.0, 1.0, ((tm >> 3u) & 1u) != 0u);
          let wl = ok * textureLoad(wt, vec2<u32>(cq, r + 3u * S));
          let wh = ok * textureLoad(wt, vec2<u32>(cq + 1u, r + 3u * S));
          let xv = vec4<f32>(sg[max(T, 4u) - 4u], sg[max(T, 4u) - 4u + 1u], sg[max(T, 4u) - 4u + 2u], sg[max(T, 4u) - 4u + 3u]);
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
      if (T > 4u) {
        {
          let ok = select(0.0, 1.0, ((tm >> 4u) & 1u) != 0u);
          let wl = ok * textureLoad(wt, vec2<u32>(cq, r + 4u * S));
          let wh = ok * textureLoad(wt, vec2<u32>(cq + 1u, r + 4u * S));
          let xv = vec4<f32>(sg[max(T, 5u) - 5u], sg[max(T, 5u) - 5u + 1u], sg[max(T, 5u) - 5u + 2u], sg[max(T, 5u) - 5u + 3u]);
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
  let ci0 = wid.z * 8u;
  for (var c = 0u; c < 8u; c++) {
    let ci = ci0 + c;
    if (ci >= p.cin) { break; }
    let o = (((p.n0 + n) * p.cin + ci) * p.h + iy) * p.w + ix0;
    for (var j = 0u; j < 4u; j++) {
      if (ix0 + S * j < p.w) { dx[o + S * j] = acc[c][j]; }
    }
  }
}
