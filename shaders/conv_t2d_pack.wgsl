// conv_t2d_pack: copies an NCHW tensor into a channel-last rgba32float texture with a zero border, for the
// blocked (transposed) convolution kernels: one texel holds 4 channels of one pixel, so a fetch feeds
// 4 channels' multiply-adds, and the border makes every tap read in bounds without per-tap tests.
// texel ((px + B) * C4 + c4, n * (H + 2B) + py + B) = src[n, 4c4 .. 4c4+3, py, px]; zero in the border and
// for channels >= C. Texture size: ((W + 2B) * C4, N * (H + 2B)).
// Bindings: 0 src (N, C, H, W) read; 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { n, c, h, w, c4, border: u32 }.
// Dispatch: (ceil(texW / WG_X), ceil(texH / WG_Y), 1) workgroups of (WG_X, WG_Y), one texel an invocation.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params { n: u32, c: u32, h: u32, w: u32, c4: u32, border: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = textureDimensions(dst);
  if (gid.x >= dims.x || gid.y >= dims.y) { return; }
  let hb = p.h + 2u * p.border;
  let px = i32(gid.x / p.c4) - i32(p.border);
  let c4 = gid.x % p.c4;
  let n = gid.y / hb;
  let py = i32(gid.y % hb) - i32(p.border);
  var v = vec4<f32>(0.0);
  if (px >= 0 && px < i32(p.w) && py >= 0 && py < i32(p.h)) {
    for (var q = 0u; q < 4u; q++) {
      let c = c4 * 4u + q;
      if (c < p.c) { v[q] = src[((n * p.c + c) * p.h + u32(py)) * p.w + u32(px)]; }
    }
  }
  textureStore(dst, gid.xy, v);
}
