// spectral_norm_scale: W_sn = W / sigma, sigma = scal[0] from spectral_norm_normalize.
// Bindings: 0 w (T) read; 1 scal (2) read; 2 wsn (T) write; 3 uniform { total: u32 }.
// Dispatch: 1-D over the T = OUT*IN weights, WG a group, folded by grid1d. Elementwise: one variant only.
override WG: u32 = 256;

struct Params { total: u32 }

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> scal: array<f32>;
@group(0) @binding(2) var<storage, read_write> wsn: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  wsn[i] = w[i] / scal[0];
}
