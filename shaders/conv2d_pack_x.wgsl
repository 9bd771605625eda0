// conv2d_pack_x: copies image planes (N*C planes of hs x ws, NCHW) into an rgba32float texture with zero
// padding (and, for the input gradient, zero dilation) built in, so the gemm conv kernels read every tap
// with an unmasked textureLoad (one vector gather on llvmpipe; storage-buffer loads are per-lane loops).
// Padded plane: hp rows x 4*wp4 columns; value (yy, xx) = src[plane, (yy - pad) / d, (xx - pad) / d] when
// both divide evenly and land inside hs x ws, else 0. Forward / weight gradient: d = 1, pad = conv pad.
// Input gradient (dy as the image): d = stride, pad = K - 1 - conv pad (may be negative).
// Logical row r = plane * hp + yy, texel column c4 (4 columns xx = 4c4..4c4+3) lives at texel
// (c4 + wp4 * (r >> 13), r & 8191): rows beyond 8192 fold into further column blocks.
// Integer division is a per-lane scalar loop on llvmpipe, so the grid is 3-D (no row / hp) and the dilation
// D is an override constant (1 or 2: shifts).
// The workgroup is TX x TY x TZ (override constants): texel columns x rows x planes, fitted to the padded
// plane so that small planes (1x1-4x4 images: 2 texels x 1-8 rows) fill a workgroup with several planes
// instead of leaving most of an 8 x 8 group idle; large planes use 8 x 8 x 1.
// Bindings: 0 src read (first value at element `base`); 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { hs, ws, hp, wp4, pad: i32, base, plane0, plane1 }.
// Dispatch: (ceil(wp4 / TX), ceil(hp / TY), ceil((plane1 - plane0) / TZ)) workgroups, one texel an
//           invocation; plane = plane0 + z (planes [plane0, plane1) in one dispatch, under 65536 groups).
override D: u32 = 1u;
override TX: u32 = 8u;
override TY: u32 = 8u;
override TZ: u32 = 1u;

struct Params { hs: u32, ws: u32, hp: u32, wp4: u32, pad: i32, base: u32, plane0: u32, plane1: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

// Value of padded column xx in source row `row` (an element index of the row start), or 0.
fn col(row: u32, xx: i32) -> f32 {
  let u = xx - p.pad;
  if (u < 0 || u32(u) % D != 0u) { return 0.0; }
  let ix = u32(u) / D;
  if (ix >= p.ws) { return 0.0; }
  return src[row + ix];
}

@compute @workgroup_size(TX, TY, TZ)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c4 = gid.x;
  let yy = gid.y;
  let plane = p.plane0 + gid.z;
  if (c4 >= p.wp4 || yy >= p.hp || plane >= p.plane1) { return; }
  let v = i32(yy) - p.pad;
  var t = vec4<f32>(0.0);
  if (v >= 0 && u32(v) % D == 0u && u32(v) / D < p.hs) {
    let row = p.base + (plane * p.hs + u32(v) / D) * p.ws;
    let xx = i32(c4 * 4u);
    t = vec4<f32>(col(row, xx), col(row, xx + 1), col(row, xx + 2), col(row, xx + 3));
  }
  let r = plane * p.hp + yy;
  textureStore(dst, vec2<u32>(c4 + p.wp4 * (r >> 13u), r & 8191u), t);
}
