// matmul_pack: copies a strided 2-D view of a buffer into an rgba32float texture, 4 columns a texel, with
// zeros outside the view. The fast ("blocked") kernels read their inputs with textureLoad, which llvmpipe
// turns into vector gathers, while each storage-buffer load there is a per-lane loop (several times slower).
// texel (c4, r) = (v(r, 4c4), v(r, 4c4+1), v(r, 4c4+2), v(r, 4c4+3)), with
// v(r, c) = src[base + (r / rd) * outer + (r % rd) * inner + c * cs] for r < rows and c < cols, else 0 (rows may
// split in two levels, e.g. (ci, tap) of a conv weight). The texture may be larger than the view (padding).
// Bindings: 0 src read; 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { rows, cols, outer, cs, base, rd, inner: u32 }.
// Dispatch: (ceil(texW / WG_X), ceil(texH / WG_Y), 1) workgroups of (WG_X, WG_Y), one texel an invocation.
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

struct Params { rows: u32, cols: u32, outer: u32, cs: u32, base: u32, rd: u32, inner: u32 }

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = textureDimensions(dst);
  if (gid.x >= dims.x || gid.y >= dims.y) { return; }
  let r = gid.y;
  var v = vec4<f32>(0.0);
  if (r < p.rows) {
    let rbase = p.base + (r / p.rd) * p.outer + (r % p.rd) * p.inner;
    for (var q = 0u; q < 4u; q++) {
      let c = gid.x * 4u + q;
      if (c < p.cols) { v[q] = src[rbase + c * p.cs]; }
    }
  }
  textureStore(dst, vec2<u32>(gid.x, r), v);
}
