// upsample2_fwd: 2x nearest-neighbour upsampling: y[p, i, j] = x[p, i / 2, j / 2], Ho = 2H, Wo = 2W.
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C, 2H, 2W) write; 2 uniform { total = N*C*Ho*Wo, h, w, ho, wo }.
// Dispatch: 1-D over N*C*Ho*Wo outputs, WG a group, folded into 2-D by grid1d.
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
  y[i] = x[(plane * p.h + r / 2u) * p.w + j / 2u];
}
