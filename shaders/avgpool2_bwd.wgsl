// avgpool2_bwd: gradient of avgpool2_fwd: dx[p, iy, ix] = dy[p, iy / 2, ix / 2] / 4 where that output exists,
// 0 for a dropped odd last row/column. Writes dx (=).
// Bindings: 0 dy (N, C, Ho, Wo) read; 1 dx (N, C, H, W) write; 2 uniform { total = N*C*H*W, h, w, ho, wo }.
// Dispatch: 1-D over N*C*H*W, WG a group, folded into 2-D by grid1d.
override WG: u32 = 256;

struct Params { total: u32, h: u32, w: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let ix = i % p.w;
  let iy = (i / p.w) % p.h;
  let plane = i / (p.w * p.h);
  let oy = iy / 2u;
  let ox = ix / 2u;
  var v = 0.0;
  if (oy < p.ho && ox < p.wo) { v = 0.25 * dy[(plane * p.ho + oy) * p.wo + ox]; }
  dx[i] = v;
}
