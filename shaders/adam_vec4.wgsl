// adam_vec4: adam_naive on vec4 lanes (the "blocked" variant): each invocation updates 4 consecutive values,
// so loads and stores are 16 bytes wide. Arenas are multiples of 64 floats, so n = floats / 4 is exact.
//   g = grad * gscale;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
//   w = w * decay - lr * (m / bc1) / (sqrt(v / bc2) + eps)      (see adam_naive; ZERO_GRAD = 1 zeroes grad)
// Bindings: 0 w (n vec4) read_write; 1 grad (n vec4) read_write; 2 m (n vec4) read_write; 3 v (n vec4)
//           read_write; 4 uniform { lr, b1, omb1, b2, omb2, eps, bc1, bc2, decay, gscale: f32, n: u32 (vec4s) }.
// Dispatch: 1-D over n vec4s, WG a group, folded by grid1d (flat group = x + y*nx).
override WG: u32 = 256;
override ZERO_GRAD: u32 = 0u;

struct Params {
  lr: f32, b1: f32, omb1: f32, b2: f32, omb2: f32, eps: f32, bc1: f32, bc2: f32, decay: f32, gscale: f32, n: u32,
}

@group(0) @binding(0) var<storage, read_write> w: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> grad: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> m: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> v: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  let g = grad[i] * p.gscale;
  if (ZERO_GRAD == 1u) { grad[i] = vec4<f32>(0.0); }
  let mi = p.b1 * m[i] + p.omb1 * g;
  let vi = p.b2 * v[i] + p.omb2 * g * g;
  m[i] = mi;
  v[i] = vi;
  w[i] = w[i] * p.decay - p.lr * (mi / p.bc1) / (sqrt(vi / p.bc2) + p.eps);
}
