// batch_norm_bwd: backward of batch_norm_fwd in training mode (through the batch mean and variance), for x
// viewed as (A, G, S) with groups g of A*S values (see batch_norm_fwd). With xhat = (x - mean) * invstd,
// scale = gamma[g] + GAMMA_OFFSET and M = A*S:
//   dbeta[g] = sum dy, dgamma[g] = sum dy * xhat            (ACCUM = 1: +=, parameter grads; 0: =, activations)
//   dx = scale * invstd * (dy - dbeta_g / M - xhat * dgamma_g / M)                          (written, =)
// Bindings: 0 x (A*G*S) read; 1 dy (A*G*S) read; 2 gamma (G) read; 3 saved (2*G) read [mean | invstd];
//           4 dx (A*G*S) write; 5 dgamma (G) read_write; 6 dbeta (G) read_write;
//           7 uniform { a: u32, g: u32, s: u32 }.
// Dispatch: one workgroup per group (grid1d); WG invocations stride and tree-reduce both sums at once in
// workgroup memory, then write dx for the group. WG = 1 is the naive variant. WG must be a power of two.
override WG: u32 = 64;
override ACCUM: u32 = 1u;
override GAMMA_OFFSET: f32 = 0.0;

struct Params { a: u32, g: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> saved: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> part: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.g) { return; }
  let m = p.a * p.s;
  let mean = saved[g];
  let invstd = saved[p.g + g];
  var acc = vec2<f32>(0.0);
  for (var j = lid; j < m; j += WG) {
    let a = j / p.s;
    let i = (a * p.g + g) * p.s + (j - a * p.s);
    let d = dy[i];
    acc += vec2<f32>(d, d * (x[i] - mean) * invstd);
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let sums = part[0]; // (sum dy, sum dy * xhat)
  if (lid == 0u) {
    if (ACCUM == 1u) {
      dbeta[g] += sums.x;
      dgamma[g] += sums.y;
    } else {
      dbeta[g] = sums.x;
      dgamma[g] = sums.y;
    }
  }
  let k = (gamma[g] + GAMMA_OFFSET) * invstd;
  let mdy = sums.x / f32(m);
  let mdyx = sums.y / f32(m);
  for (var j = lid; j < m; j += WG) {
    let a = j / p.s;
    let i = (a * p.g + g) * p.s + (j - a * p.s);
    let xhat = (x[i] - mean) * invstd;
    dx[i] = k * (dy[i] - mdy - xhat * mdyx);
  }
}
