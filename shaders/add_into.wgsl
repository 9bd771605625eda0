// add_into: acc += x, elementwise over two same-size flat tensors (accumulating a second gradient into a
// first one in place). One value an invocation: the pass is memory bound.
// Bindings: 0 x (n) read; 1 acc (n) read_write (another buffer than x); 2 uniform { n: u32 }.
// Dispatch: 1-D over n values, WG a group, folded by grid1d (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  acc[i] = acc[i] + x[i];
}
