// spectral_norm_bwd: weight gradient through W_sn = W / sigma with u, v held constant (as PyTorch does):
//   dW[i, j] += (dWsn[i, j] - k * u[i] * v[j]) / sigma,   k = scal[1] (spectral_norm_gdot), sigma = scal[0].
// Accumulates (+=): dW is a parameter gradient.
// Bindings: 0 dwsn (OUT*IN) read; 1 u (OUT) read; 2 v (IN) read; 3 scal (2) read; 4 dw (OUT*IN) read_write;
//           5 uniform { total: u32 = OUT*IN, in: u32 }.
// Dispatch: 1-D over the weights, WG a group, folded by grid1d. Elementwise: one variant only.
override WG: u32 = 256;

struct Params { total: u32, cols: u32 }

@group(0) @binding(0) var<storage, read> dwsn: array<f32>;
@group(0) @binding(1) var<storage, read> u: array<f32>;
@group(0) @binding(2) var<storage, read> v: array<f32>;
@group(0) @binding(3) var<storage, read> scal: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = (wid.x + wid.y * nwg.x) * WG + lid;
  if (t >= p.total) { return; }
  let i = t / p.cols;
  let j = t - i * p.cols;
  dw[t] += (dwsn[t] - scal[1] * u[i] * v[j]) / scal[0];
}
