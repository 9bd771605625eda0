// blend_bwd: gradients of blend_fwd (y = (1 - alpha) * a + alpha * b), written (=):
//   da = (1 - alpha) * dy,  db = alpha * dy.
// Bindings: 0 dy (total) read; 1 alpha (1) read; 2 da (total) write; 3 db (total) write;
//           4 uniform { total: u32 }.
// Dispatch: 1-D, each invocation writes ELEMS consecutive values (ELEMS = 1: naive; 4: blocked), WG
// invocations a group, folded into 2-D by grid1d (flat group = x + y*nx); the tail is bounds-checked.
override WG: u32 = 256;
override ELEMS: u32 = 4u;

struct Params { total: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> alpha: array<f32>;
@group(0) @binding(2) var<storage, read_write> da: array<f32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let first = ((wid.x + wid.y * nwg.x) * WG + lid) * ELEMS;
  let t = alpha[0];
  let s = 1.0 - t;
  for (var k = 0u; k < ELEMS; k++) {
    let i = first + k;
    if (i < p.total) {
      let g = dy[i];
      da[i] = s * g;
      db[i] = t * g;
    }
  }
}
