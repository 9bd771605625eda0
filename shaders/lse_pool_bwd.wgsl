// lse_pool_bwd: gradient of lse_pool_fwd, dx[n, c, j] = dy[n, c] * softmax_j(R x) = dy * exp(R (x_j - y)) / S
// (exp(R y) is the plane's mean of exp(R x), so the forward's output gives the normaliser; x_j - y is at most
// log(S) / R, so the exponent cannot overflow). Written (=).
// Bindings: 0 x (N, C, H, W) read; 1 y (N, C) read (the forward's output); 2 dy (N, C) read;
//           3 dx (N, C, H, W) write; 4 uniform { total: u32 = N*C*H*W, s: u32 = H*W }.
// Dispatch: 1-D over the N*C*H*W elements, WG a workgroup, folded by grid1d.
override WG: u32 = 256;
override R: f32 = 4.0;

struct Params { total: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let plane = i / p.s;
  dx[i] = dy[plane] * exp(R * (x[i] - y[plane])) / f32(p.s);
}
