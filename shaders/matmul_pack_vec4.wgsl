// matmul_pack_vec4: matmul_pack for views whose rows are contiguous and 16-byte aligned (cs = 1; base,
// inner and outer strides multiples of 4): one vec4 load a texel instead of four scalar loads (on llvmpipe
// each storage-buffer load is a per-lane loop, so this makes packing about 4x cheaper).
// texel (c4, r) = (v(r, 4c4) .. v(r, 4c4+3)), v(r, c) = src[base + (r / rd) * outer + (r % rd) * inner + c]
// for r < rows and c < cols, else 0.
// Bindings: 0 src read (as vec4s); 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { rows, cols, outer, cs (= 1), base, rd, inner: u32 }.
// Dispatch: (ceil(texW / WG_X), ceil(texH / WG_Y), 1) workgroups of (WG_X, WG_Y), one texel an invocation.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params { rows: u32, cols: u32, outer: u32, cs: u32, base: u32, rd: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = textureDimensions(dst);
  if (gid.x >= dims.x || gid.y >= dims.y) { return; }
  let r = gid.y;
  let c0 = gid.x * 4u;
  var v = vec4<f32>(0.0);
  if (r < p.rows && c0 < p.cols) {
    v = src[(p.base + (r / p.rd) * p.outer + (r % p.rd) * p.inner) / 4u + gid.x];
    // a partial last texel: zero the columns past the view
    if (c0 + 3u >= p.cols) {
      v = select(vec4<f32>(0.0), v, vec4<u32>(c0, c0 + 1u, c0 + 2u, c0 + 3u) < vec4<u32>(p.cols));
    }
  }
  textureStore(dst, vec2<u32>(gid.x, r), v);
}
