// adam_naive: one Adam(W) update over a flat parameter arena, one value per invocation.
//   g = grad * gscale;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   w = w * decay - lr * (m / bc1) / (sqrt(v / bc2) + eps)
// with bc1 = 1 - b1^t, bc2 = 1 - b2^t and decay = 1 - lr * weightDecay (decoupled weight decay), all computed
// on the CPU in float64 and written into the uniform before each submit. ZERO_GRAD = 1 also sets grad = 0.
// Padding of the arenas stays zero: a zero gradient keeps m = v = 0 and w = 0.
// Bindings: 0 w (n) read_write; 1 grad (n) read_write; 2 m (n) read_write; 3 v (n) read_write;
//           4 uniform { lr, b1, omb1 = 1 - b1, b2, omb2 = 1 - b2, eps, bc1, bc2, decay, gscale: f32, n: u32 }.
// Dispatch: 1-D over n values, WG a group, folded by grid1d (flat group = x + y*nx).
override WG: u32 = 256;
override ZERO_GRAD: u32 = 0u;

struct Params {
  lr: f32, b1: f32, omb1: f32, b2: f32, omb2: f32, eps: f32, bc1: f32, bc2: f32, decay: f32, gscale: f32, n: u32,
}

@group(0) @binding(0) var<storage, read_write> w: array<f32>;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let g = grad[i] * p.gscale;
  if (ZERO_GRAD == 1u) { grad[i] = 0.0; }
  let mi = p.b1 * m[i] + p.omb1 * g;
  let vi = p.b2 * v[i] + p.omb2 * g * g;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] * p.decay - p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
}
