// conv2d_bwd_weight_reduce: dw[i] += sum over s < splits of part[s * M + i] (the split-K partial weight
// gradients of conv2d_bwd_weight_blocked), i < M = Cout*Cin*K*K. Also sums bias gradients: partials of
// bias_act_bwd_sum (splits, C), and a linear layer's dy (N, C) as N splits of M = C.
// Bindings: 0 part (splits, M) read; 1 dw (M) read_write; 2 uniform { m, splits: u32 }.
// Dispatch: 1-D over M, WG a group, folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 64;

struct Params { m: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.m) { return; }
  var acc = 0.0;
  for (var s = 0u; s < p.splits; s++) { acc += part[s * p.m + i]; }
  dw[i] += acc;
}
