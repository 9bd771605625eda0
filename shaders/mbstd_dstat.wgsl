// mbstd_dstat: gradient of the minibatch-std statistic of group m: saved[M + m] = sum over the group's samples
// n = i*M + m (i < G) and s < S of dy[n, C, s] (the gradient reaching the appended channel).
// Bindings: 0 dy (N*(C+1)*S) read; 1 saved (2*M) read_write (writes the second half only);
//           2 uniform { g: u32, m: u32, c: u32, s: u32 }.
// Dispatch: one workgroup per group m (grid1d); WG invocations stride over the G*S values and tree-reduce in
// workgroup memory. WG = 1 is the naive variant. WG must be a power of two.
override WG: u32 = 64;

struct Params { g: u32, m: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> saved: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let m = wid.x + wid.y * nwg.x;
  if (m >= p.m) { return; }
  var acc = 0.0;
  for (var j = lid; j < p.g * p.s; j += WG) {
    let i = j / p.s;
    let s = j - i * p.s;
    acc += dy[((i * p.m + m) * (p.c + 1u) + p.c) * p.s + s];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { saved[p.m + m] = part[0]; }
}
