// conv_t2d_pack_vec4: conv_t2d_pack for W % 4 == 0, four pixels an invocation: 4 vec4 loads (one per channel,
// along x) fill 4 texels, instead of 16 scalar loads (each storage-buffer load is a per-lane loop on
// llvmpipe). Writes only the interior: the border stays zero because a scratch texture is only ever used
// for one (slot, shape, border) layout and textures start zeroed.
// texel ((px + B) * C4 + c4, n * (H + 2B) + py + B) = src[n, 4c4 .. 4c4+3, py, px], zero for channels >= C.
// Bindings: 0 src (N, C, H, W) read (as vec4s); 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { n, c, h, w, c4, border: u32 }.
// Dispatch: (ceil(W / 4 * C4 / WG_X), ceil(N * H / WG_Y), 1) workgroups of (WG_X, WG_Y); invocation
// (g4 * C4 + c4, n * H + py) writes pixels 4 g4 .. 4 g4 + 3 of row py, channels 4 c4 .. 4 c4 + 3.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params { n: u32, c: u32, h: u32, w: u32, c4: u32, border: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

fn channel(n: u32, ch: u32, py: u32, g4: u32) -> vec4<f32> {
  if (ch >= p.c) { return vec4<f32>(0.0); }
  return src[(((n * p.c + ch) * p.h + py) * p.w) / 4u + g4];
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let w4 = p.w / 4u;
  if (gid.x >= w4 * p.c4 || gid.y >= p.n * p.h) { return; }
  let g4 = gid.x / p.c4;
  let c4 = gid.x % p.c4;
  let n = gid.y / p.h;
  let py = gid.y % p.h;
  let a = channel(n, c4 * 4u, py, g4);
  let b = channel(n, c4 * 4u + 1u, py, g4);
  let c = channel(n, c4 * 4u + 2u, py, g4);
  let d = channel(n, c4 * 4u + 3u, py, g4);
  let ty = n * (p.h + 2u * p.border) + py + p.border;
  let tx = (g4 * 4u + p.border) * p.c4 + c4;
  textureStore(dst, vec2<u32>(tx, ty), vec4<f32>(a.x, b.x, c.x, d.x));
  textureStore(dst, vec2<u32>(tx + p.c4, ty), vec4<f32>(a.y, b.y, c.y, d.y));
  textureStore(dst, vec2<u32>(tx + 2u * p.c4, ty), vec4<f32>(a.z, b.z, c.z, d.z));
  textureStore(dst, vec2<u32>(tx + 3u * p.c4, ty), vec4<f32>(a.w, b.w, c.w, d.w));
}
