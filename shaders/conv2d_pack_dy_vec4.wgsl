// conv2d_pack_dy_vec4: the dy layout of conv2d_bwd_weight_blocked (what conv2d_pack_w writes with
// r = (n, oy, ox), c = co) read as vec4s: 4 consecutive pixels of 4 channels an invocation, 4 vec4 loads
// (one per channel, along the pixels) transposed into 4 texels, instead of 16 scalar loads at a channel
// stride (each storage-buffer load is a per-lane loop on llvmpipe). Needs Ho*Wo and base divisible by 4, so
// a group of 4 pixels stays in one channel plane and in one fold (FOLD is a multiple of 4).
// texel (c4 + cw * (P / FOLD), P % FOLD) = dy[base + (n * C + 4c4 + q) * HW + p] for q = 0..3, with
// P = n * HW + p the pixel within the chunk, zero for channels >= C (the weight gradient discards them).
// Bindings: 0 dy (N, C, Ho, Wo) read (as vec4s); 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { groups, c, hw, cw, base4: u32 } (groups = pixels / 4 of the chunk, base4 = base / 4).
// Dispatch: (gx, gy, 1) groups of WG folded by grid1d (flat = x + y * nx), invocation t = (g, c4):
// c4 = t % cw, pixel group g = t / cw.
override WG: u32 = 64u;
override FOLD: u32 = 8192u;

struct Params { groups: u32, c: u32, hw: u32, cw: u32, base4: u32 }

@group(0) @binding(0) var<storage, read> dy: array<vec4<f32>>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

fn channel(n: u32, ch: u32, px: u32) -> vec4<f32> {
  if (ch >= p.c) { return vec4<f32>(0.0); }
  return dy[p.base4 + ((n * p.c + ch) * p.hw + px) / 4u];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.groups * p.cw) { return; }
  let c4 = t % p.cw;
  let pix = (t / p.cw) * 4u;
  let n = pix / p.hw;
  let px = pix % p.hw;
  let a = channel(n, c4 * 4u, px);
  let b = channel(n, c4 * 4u + 1u, px);
  let c = channel(n, c4 * 4u + 2u, px);
  let d = channel(n, c4 * 4u + 3u, px);
  let tx = c4 + p.cw * (pix / FOLD);
  let ty = pix % FOLD;
  textureStore(dst, vec2<u32>(tx, ty), vec4<f32>(a.x, b.x, c.x, d.x));
  textureStore(dst, vec2<u32>(tx, ty + 1u), vec4<f32>(a.y, b.y, c.y, d.y));
  textureStore(dst, vec2<u32>(tx, ty + 2u), vec4<f32>(a.z, b.z, c.z, d.z));
  textureStore(dst, vec2<u32>(tx, ty + 3u), vec4<f32>(a.w, b.w, c.w, d.w));
}
