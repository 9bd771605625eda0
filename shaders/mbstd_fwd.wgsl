// mbstd_fwd: appends the minibatch-std statistic as an extra channel: y (N, C+1, S) with
// y[n, c, s] = x[n, c, s] for c < C and y[n, C, s] = saved[n % M] (mbstd_stat's output for n's group).
// Bindings: 0 x (N*C*S) read; 1 saved (2*M) read; 2 y (N*(C+1)*S) write;
//           3 uniform { total: u32 = N*(C+1)*S, c: u32, s: u32, m: u32 }.
// Dispatch: 1-D over the N*(C+1)*S outputs, WG a group, folded by grid1d. Elementwise: one variant only.
override WG: u32 = 256;

struct Params { total: u32, c: u32, s: u32, m: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> saved: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let plane = (p.c + 1u) * p.s;
  let n = i / plane;
  let r = i - n * plane; // = c * S + s
  if (r < p.c * p.s) {
    y[i] = x[n * p.c * p.s + r];
  } else {
    y[i] = saved[n % p.m];
  }
}
