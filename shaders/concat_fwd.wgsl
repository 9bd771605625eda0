// concat_fwd: y = concat(a, b) along axis 1: a (N, CA, S), b (N, CB, S) -> y (N, CA+CB, S); S = H*W for NCHW
// images, S = 1 for (N, F) features.
// Bindings: 0 a (N*CA*S) read; 1 b (N*CB*S) read; 2 y (N*(CA+CB)*S) write;
//           3 uniform { total: u32 = N*(CA+CB)*S, ca: u32 = CA*S, cb: u32 = CB*S }.
// Dispatch: 1-D over the outputs, WG a group, folded by grid1d. A pure copy: one variant only.
override WG: u32 = 256;

struct Params { total: u32, ca: u32, cb: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let plane = p.ca + p.cb;
  let n = i / plane;
  let r = i - n * plane;
  if (r < p.ca) {
    y[i] = a[n * p.ca + r];
  } else {
    y[i] = b[n * p.cb + r - p.ca];
  }
}
