// conv_t2d_fwd_blocked: transposed 2-D convolution forward for one output parity class (py, px), register
// blocked: each invocation computes 16 output positions x 16 output channels. Outputs of one parity class
// (oy = qy * stride + py, ox = qx * stride + px) all gather from the same taps ky = ry, ry + stride, ...
// (ry = (py + pad) % stride) at input iy = qy + (py + pad - ky) / stride, so no tap is wasted (k4 s2: each
// output gets exactly 2 x 2 taps a channel). Inputs come from textures (conv_t2d_pack): on llvmpipe a texel
// fetch is a vector gather while a storage-buffer load is a per-lane loop. The tile is 16 named variables
// updated by an inlined helper with constant indices (NIR leaves loops this big rolled, which would spill
// the tile to per-lane scratch memory); one step (tap, 4 input channels) is 32 fetches for 1024 FMAs.
// y[n, co, oy, ox] = bias[co] + sum over ci and valid taps of x[n, ci, iy, ix] * w[ci, co, ky, kx].
// Textures: xt = x packed with border B (texel ((ix + B) * CIN4 + ci4, n * (H + 2B) + iy + B)), B large
//           enough that every tap of a valid position is inside; wt texel (co4, ci * K * K + ky * K + kx) =
//           w[ci, 4co4 .. 4co4+3, ky, kx], zero for ci >= Cin.
// Bindings: 0 xt; 1 wt; 2 bias (Cout) read (ignored unless HAS_BIAS); 3 y (N, Cout, Ho, Wo) read_write;
//           4 uniform { n, cin4, h, w, cout, k, stride, pad, ho, wo, hq, wq, py, px, border: u32 }.
// Dispatch: (ceil(N * Hq * Wq / (16 WG_X)), ceil(Cout / (16 WG_Y)), 1) workgroups of (WG_X, WG_Y), one
// dispatch per parity class; positions are flat over (n, qy, qx), so small images still fill a tile.
override WG_X: u32 = 64u;
override WG_Y: u32 = 1u;
override HAS_BIAS: u32 = 0u;

struct Params {
  n: u32, cin4: u32, h: u32, w: u32, cout: u32, k: u32, stride: u32, pad: u32, ho: u32, wo: u32,
  hq: u32, wq: u32, py: u32, px: u32, border: u32,
}

@group(0) @binding(0) var xt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var wt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// 16 channels of one position, 4 a vec4.
alias Row = array<vec4<f32>, 4>;
// 4 reduced channels (q) x 16 output channels: [q * 4 + j].
alias Tile = array<vec4<f32>, 16>;

// r[j] += sum over q of a[q] * b[q * 4 + j]: one position's update for 4 reduced channels, each output
// vec4's 4 FMAs in one chain (the spilled tile is loaded and stored once a step; see matmul_blocked).
fn fmaRow(r: ptr<function, Row>, a: vec4<f32>, b: ptr<function, Tile>) {
  let ax = vec4<f32>(a.x);
  let ay = vec4<f32>(a.y);
  let az = vec4<f32>(a.z);
  let aw = vec4<f32>(a.w);
  (*r)[0] = fma(aw, (*b)[12], fma(az, (*b)[8], fma(ay, (*b)[4], fma(ax, (*b)[0], (*r)[0]))));
  (*r)[1] = fma(aw, (*b)[13], fma(az, (*b)[9], fma(ay, (*b)[5], fma(ax, (*b)[1], (*r)[1]))));
  (*r)[2] = fma(aw, (*b)[14], fma(az, (*b)[10], fma(ay, (*b)[6], fma(ax, (*b)[2], (*r)[2]))));
  (*r)[3] = fma(aw, (*b)[15], fma(az, (*b)[11], fma(ay, (*b)[7], fma(ax, (*b)[3], (*r)[3]))));
}

// Texture coordinates of position pos's input pixel before the tap offset, and its output index base.
fn coord(pos: u32) -> vec2<i32> {
  let qx = pos % p.wq;
  let qy = (pos / p.wq) % p.hq;
  let n = pos / (p.wq * p.hq);
  return vec2<i32>(i32(qx + p.border), i32(n * (p.h + 2u * p.border) + qy + p.border));
}

fn put(base: u32, plane: u32, co: u32, value: f32) {
  if (co >= p.cout) { return; }
  var v = value;
  if (HAS_BIAS == 1u) { v += bias[co]; }
  y[base + co * plane] = v;
}

fn putPos(pos: u32, co0: u32, r: ptr<function, Row>) {
  if (pos >= p.n * p.hq * p.wq) { return; }
  let ox = (pos % p.wq) * p.stride + p.px;
  let oy = ((pos / p.wq) % p.hq) * p.stride + p.py;
  let n = pos / (p.wq * p.hq);
  let plane = p.ho * p.wo;
  let base = n * p.cout * plane + oy * p.wo + ox;
  let v0 = (*r)[0];
  let v1 = (*r)[1];
  let v2 = (*r)[2];
  let v3 = (*r)[3];
  put(base, plane, co0 + 0u, v0.x);
  put(base, plane, co0 + 1u, v0.y);
  put(base, plane, co0 + 2u, v0.z);
  put(base, plane, co0 + 3u, v0.w);
  put(base, plane, co0 + 4u, v1.x);
  put(base, plane, co0 + 5u, v1.y);
  put(base, plane, co0 + 6u, v1.z);
  put(base, plane, co0 + 7u, v1.w);
  put(base, plane, co0 + 8u, v2.x);
  put(base, plane, co0 + 9u, v2.y);
  put(base, plane, co0 + 10u, v2.z);
  put(base, plane, co0 + 11u, v2.w);
  put(base, plane, co0 + 12u, v3.x);
  put(base, plane, co0 + 13u, v3.y);
  put(base, plane, co0 + 14u, v3.z);
  put(base, plane, co0 + 15u, v3.w);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let last = p.n * p.hq * p.wq - 1u;
  let pos0 = gid.x * 16u;
  let c40 = gid.y * 4u;
  let cn4 = i32(p.cin4);
  // extra lanes recompute the last position and store nothing
  let pc0 = coord(min(pos0 + 0u, last));
  let pc1 = coord(min(pos0 + 1u, last));
  let pc2 = coord(min(pos0 + 2u, last));
  let pc3 = coord(min(pos0 + 3u, last));
  let pc4 = coord(min(pos0 + 4u, last));
  let pc5 = coord(min(pos0 + 5u, last));
  let pc6 = coord(min(pos0 + 6u, last));
  let pc7 = coord(min(pos0 + 7u, last));
  let pc8 = coord(min(pos0 + 8u, last));
  let pc9 = coord(min(pos0 + 9u, last));
  let pc10 = coord(min(pos0 + 10u, last));
  let pc11 = coord(min(pos0 + 11u, last));
  let pc12 = coord(min(pos0 + 12u, last));
  let pc13 = coord(min(pos0 + 13u, last));
  let pc14 = coord(min(pos0 + 14u, last));
  let pc15 = coord(min(pos0 + 15u, last));
  var r0: Row;
  var r1: Row;
  var r2: Row;
  var r3: Row;
  var r4: Row;
  var r5: Row;
  var r6: Row;
  var r7: Row;
  var r8: Row;
  var r9: Row;
  var r10: Row;
  var r11: Row;
  var r12: Row;
  var r13: Row;
  var r14: Row;
  var r15: Row;
  let kk = p.k * p.k;
  let s = i32(p.stride);
  for (var ky = (p.py + p.pad) % p.stride; ky < p.k; ky += p.stride) {
    let ty = (i32(p.py + p.pad) - i32(ky)) / s;
    for (var kx = (p.px + p.pad) % p.stride; kx < p.k; kx += p.stride) {
      let tx = (i32(p.px + p.pad) - i32(kx)) / s;
      let tap = ky * p.k + kx;
      for (var c4 = 0u; c4 < p.cin4; c4++) {
        let row0 = c4 * 4u * kk + tap;
        var b: Tile;
        b[0] = textureLoad(wt, vec2<u32>(c40 + 0u, row0 + 0u * kk));
        b[1] = textureLoad(wt, vec2<u32>(c40 + 1u, row0 + 0u * kk));
        b[2] = textureLoad(wt, vec2<u32>(c40 + 2u, row0 + 0u * kk));
        b[3] = textureLoad(wt, vec2<u32>(c40 + 3u, row0 + 0u * kk));
        b[4] = textureLoad(wt, vec2<u32>(c40 + 0u, row0 + 1u * kk));
        b[5] = textureLoad(wt, vec2<u32>(c40 + 1u, row0 + 1u * kk));
        b[6] = textureLoad(wt, vec2<u32>(c40 + 2u, row0 + 1u * kk));
        b[7] = textureLoad(wt, vec2<u32>(c40 + 3u, row0 + 1u * kk));
        b[8] = textureLoad(wt, vec2<u32>(c40 + 0u, row0 + 2u * kk));
        b[9] = textureLoad(wt, vec2<u32>(c40 + 1u, row0 + 2u * kk));
        b[10] = textureLoad(wt, vec2<u32>(c40 + 2u, row0 + 2u * kk));
        b[11] = textureLoad(wt, vec2<u32>(c40 + 3u, row0 + 2u * kk));
        b[12] = textureLoad(wt, vec2<u32>(c40 + 0u, row0 + 3u * kk));
        b[13] = textureLoad(wt, vec2<u32>(c40 + 1u, row0 + 3u * kk));
        b[14] = textureLoad(wt, vec2<u32>(c40 + 2u, row0 + 3u * kk));
        b[15] = textureLoad(wt, vec2<u32>(c40 + 3u, row0 + 3u * kk));
        fmaRow(&r0, textureLoad(xt, vec2<i32>((pc0.x + tx) * cn4 + i32(c4), pc0.y + ty)), &b);
        fmaRow(&r1, textureLoad(xt, vec2<i32>((pc1.x + tx) * cn4 + i32(c4), pc1.y + ty)), &b);
        fmaRow(&r2, textureLoad(xt, vec2<i32>((pc2.x + tx) * cn4 + i32(c4), pc2.y + ty)), &b);
        fmaRow(&r3, textureLoad(xt, vec2<i32>((pc3.x + tx) * cn4 + i32(c4), pc3.y + ty)), &b);
        fmaRow(&r4, textureLoad(xt, vec2<i32>((pc4.x + tx) * cn4 + i32(c4), pc4.y + ty)), &b);
        fmaRow(&r5, textureLoad(xt, vec2<i32>((pc5.x + tx) * cn4 + i32(c4), pc5.y + ty)), &b);
        fmaRow(&r6, textureLoad(xt, vec2<i32>((pc6.x + tx) * cn4 + i32(c4), pc6.y + ty)), &b);
        fmaRow(&r7, textureLoad(xt, vec2<i32>((pc7.x + tx) * cn4 + i32(c4), pc7.y + ty)), &b);
        fmaRow(&r8, textureLoad(xt, vec2<i32>((pc8.x + tx) * cn4 + i32(c4), pc8.y + ty)), &b);
        fmaRow(&r9, textureLoad(xt, vec2<i32>((pc9.x + tx) * cn4 + i32(c4), pc9.y + ty)), &b);
        fmaRow(&r10, textureLoad(xt, vec2<i32>((pc10.x + tx) * cn4 + i32(c4), pc10.y + ty)), &b);
        fmaRow(&r11, textureLoad(xt, vec2<i32>((pc11.x + tx) * cn4 + i32(c4), pc11.y + ty)), &b);
        fmaRow(&r12, textureLoad(xt, vec2<i32>((pc12.x + tx) * cn4 + i32(c4), pc12.y + ty)), &b);
        fmaRow(&r13, textureLoad(xt, vec2<i32>((pc13.x + tx) * cn4 + i32(c4), pc13.y + ty)), &b);
        fmaRow(&r14, textureLoad(xt, vec2<i32>((pc14.x + tx) * cn4 + i32(c4), pc14.y + ty)), &b);
        fmaRow(&r15, textureLoad(xt, vec2<i32>((pc15.x + tx) * cn4 + i32(c4), pc15.y + ty)), &b);
      }
    }
  }
  putPos(pos0 + 0u, c40 * 4u, &r0);
  putPos(pos0 + 1u, c40 * 4u, &r1);
  putPos(pos0 + 2u, c40 * 4u, &r2);
  putPos(pos0 + 3u, c40 * 4u, &r3);
  putPos(pos0 + 4u, c40 * 4u, &r4);
  putPos(pos0 + 5u, c40 * 4u, &r5);
  putPos(pos0 + 6u, c40 * 4u, &r6);
  putPos(pos0 + 7u, c40 * 4u, &r7);
  putPos(pos0 + 8u, c40 * 4u, &r8);
  putPos(pos0 + 9u, c40 * 4u, &r9);
  putPos(pos0 + 10u, c40 * 4u, &r10);
  putPos(pos0 + 11u, c40 * 4u, &r11);
  putPos(pos0 + 12u, c40 * 4u, &r12);
  putPos(pos0 + 13u, c40 * 4u, &r13);
  putPos(pos0 + 14u, c40 * 4u, &r14);
  putPos(pos0 + 15u, c40 * 4u, &r15);
}
