// batch_norm_eval: batch norm in evaluation mode, with the running statistics:
// y = (x - rmean[c]) / sqrt(rvar[c] + EPS) * gamma[c] + beta[c], for x of shape (N, C, S), S = H*W (1 for (N, F)).
// Bindings: 0 x (N*C*S) read; 1 gamma (C) read; 2 beta (C) read; 3 running (2*C) read [mean | var];
//           4 y (N*C*S) write; 5 uniform { total: u32 = N*C*S, c: u32, s: u32 }.
// Dispatch: 1-D over N*C*S elements, WG a group, folded by grid1d. Elementwise: one variant only.
override WG: u32 = 256;
override EPS: f32 = 1e-5;

struct Params { total: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> running: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let c = (i / p.s) % p.c;
  let scale = gamma[c] * inverseSqrt(running[p.c + c] + EPS);
  y[i] = (x[i] - running[c]) * scale + beta[c];
}
