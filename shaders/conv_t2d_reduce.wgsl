// conv_t2d_reduce: dw[i] += sum over z < S of part[z * size + i]: adds the split-K partial weight gradients
// of conv_t2d_bwd_weight_blocked into dw (accumulate, +=).
// Bindings: 0 part (S, size) read; 1 dw (size) read_write; 2 uniform { size: u32, splits: u32 }.
// Dispatch: 1-D over size, WG a group, folded by grid1d (flat group = x + y * nx).
override WG: u32 = 64u;

struct Params { size: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.size) { return; }
  var acc = 0.0;
  for (var z = 0u; z < p.splits; z++) { acc += part[z * p.size + i]; }
  dw[i] += acc;
}
