// conv2d_pack_w: packs conv weights into an rgba32float texture, 4 channels a texel, zero padded, so the
// blocked conv kernels read them with textureLoad (a vector gather on llvmpipe; a storage-buffer load there
// is a per-lane loop, several times slower).
// texel (c4, r) = (v(r, 4c4), v(r, 4c4+1), v(r, 4c4+2), v(r, 4c4+3)) with
// v(r, c) = w[base + (r / rd) * outer + (r % rd) * inner + c * cs] for r < rows and c < cols, else 0.
// Rows longer than the texture is high fold into further column blocks: row r, texel column c4 lives at
// texel (c4 + cw * (r / rh), r % rh) (cw = texels a row block, rh = rows a fold; one fold for weights).
// Forward: r = (ci, kh, kw), c = co. Input gradient: r = (co, kh, kw), c = ci. Weight gradient (dy):
// r = (n, oy, ox), c = co.
// Bindings: 0 w read; 1 dst texture_storage_2d<rgba32float, write>;
//           2 uniform { rows, cols, rd, outer, inner, cs, cw, rh, base: u32 } (base: first element read).
// Dispatch: (ceil(texW / 8), ceil(texH / 8), 1) workgroups of 8 x 8, one texel an invocation.
struct Params { rows: u32, cols: u32, rd: u32, outer: u32, inner: u32, cs: u32, cw: u32, rh: u32, base: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let dims = textureDimensions(dst);
  if (gid.x >= dims.x || gid.y >= dims.y) { return; }
  let r = gid.y + (gid.x / p.cw) * p.rh;
  let c4 = gid.x % p.cw;
  var v = vec4<f32>(0.0);
  if (r < p.rows) {
    let base = p.base + (r / p.rd) * p.outer + (r % p.rd) * p.inner;
    for (var q = 0u; q < 4u; q++) {
      let c = c4 * 4u + q;
      if (c < p.cols) { v[q] = w[base + c * p.cs]; }
    }
  }
  textureStore(dst, gid.xy, v);
}
