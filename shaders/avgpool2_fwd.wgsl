// avgpool2_fwd: 2x2 average pooling, stride 2: y[p, i, j] = mean of x[p, 2i + a, 2j + b], a, b in {0, 1},
// over planes p = (n, c). Ho = floor(H / 2), Wo = floor(W / 2): an odd last row/column is dropped.
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C, Ho, Wo) write; 2 uniform { total = N*C*Ho*Wo, h, w, ho, wo }.
// Dispatch: 1-D over N*C*Ho*Wo outputs, WG a group, folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { total: u32, h: u32, w: u32, ho: u32, wo: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let j = i % p.wo;
  let r = (i / p.wo) % p.ho;
  let plane = i / (p.wo * p.ho);
  let base = (plane * p.h + 2u * r) * p.w + 2u * j;
  y[i] = 0.25 * (x[base] + x[base + 1u] + x[base + p.w] + x[base + p.w + 1u]);
}
