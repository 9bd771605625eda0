// concat_bwd: splits the gradient of concat along axis 1: dy (N, CA+CB, S) -> da (N, CA, S), db (N, CB, S),
// both written (=).
// Bindings: 0 dy (N*(CA+CB)*S) read; 1 da (N*CA*S) write; 2 db (N*CB*S) write;
//           3 uniform { total: u32 = N*(CA+CB)*S, ca: u32 = CA*S, cb: u32 = CB*S }.
// Dispatch: 1-D over dy's elements, WG a group, folded by grid1d. A pure copy: one variant only.
override WG: u32 = 256;

struct Params { total: u32, ca: u32, cb: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> da: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;
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
    da[n * p.ca + r] = dy[i];
  } else {
    db[n * p.cb + r - p.ca] = dy[i];
  }
}
