// global_avg_pool_bwd: input gradient of global_avg_pool_fwd, written (=): dx[n, c, h, w] = dy[n, c] / (H*W).
// Bindings: 0 dy (N, C) read; 1 dx (N, C, H, W) write; 2 uniform { total: u32 = N*C*H*W, s: u32 = H*W }.
// Dispatch: 1-D over the N*C*H*W outputs, WG invocations a group, folded into 2-D by grid1d
// (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { total: u32, s: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dx: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  dx[i] = dy[i / p.s] / f32(p.s);
}
