// add: out = a + b, elementwise over two same-size flat tensors (the gradient of a tensor read by two
// consumers, e.g. a dense block's input). One value an invocation: the pass is memory bound.
// Bindings: 0 a (n) read; 1 b (n) read; 2 out (n) read_write (another buffer than a and b);
//           3 uniform { n: u32 }.
// Dispatch: 1-D over n values, WG a group, folded by grid1d (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}
