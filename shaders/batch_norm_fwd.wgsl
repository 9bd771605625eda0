// batch_norm_fwd: normalise groups of values with their own mean and biased variance, then scale and shift:
// y = (x - mean[g]) * invstd[g] * (gamma[g] + GAMMA_OFFSET) + beta[g], invstd = 1 / sqrt(var + EPS).
// x is viewed as (A, G, S) and group g holds the A*S values x[a, g, s]:
//   batch norm:    A = N, G = C,     S = H*W (S = 1 for (N, F) features)
//   instance norm: A = 1, G = N*C,   S = H*W (conditional norm, GAMMA_OFFSET = 1: scale 1 + gamma[n, c])
// Writes saved[g] = mean, saved[G + g] = invstd for the backward pass; with UPDATE_RUNNING = 1 also
// running[g] = (1 - MOMENTUM) running[g] + MOMENTUM mean and running[G + g] likewise with the UNBIASED variance
// (as PyTorch does).
// Bindings: 0 x (A*G*S) read; 1 gamma (G) read; 2 beta (G) read; 3 y (A*G*S) write; 4 saved (2*G) write;
//           5 running (2*G) read_write (UPDATE_RUNNING = 0: a dummy bound nowhere else);
//           6 uniform { a: u32, g: u32, s: u32 }.
// Dispatch: one workgroup per group, G groups folded by grid1d. The WG invocations stride over the group's
// values and reduce in workgroup memory (two-pass: mean first, then the squared deviations, which keeps
// f32 variance accurate). WG = 1 is the naive variant: one invocation walks the whole group, no tree.
// WG must be a power of two.
override WG: u32 = 64;
override EPS: f32 = 1e-5;
override MOMENTUM: f32 = 0.1;
override UPDATE_RUNNING: u32 = 0u;
override GAMMA_OFFSET: f32 = 0.0;

struct Params { a: u32, g: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read_write> saved: array<f32>;
@group(0) @binding(5) var<storage, read_write> running: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

// Sum of v over the workgroup; every invocation gets the result.
fn wg_sum(v: f32, lid: u32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  let r = part[0];
  workgroupBarrier(); // part is reused by the next call
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.g) { return; }
  let m = p.a * p.s;
  let fm = f32(m);
  var acc = 0.0;
  for (var j = lid; j < m; j += WG) {
    let a = j / p.s;
    acc += x[(a * p.g + g) * p.s + (j - a * p.s)];
  }
  let mean = wg_sum(acc, lid) / fm;
  acc = 0.0;
  for (var j = lid; j < m; j += WG) {
    let a = j / p.s;
    let d = x[(a * p.g + g) * p.s + (j - a * p.s)] - mean;
    acc += d * d;
  }
  let variance = wg_sum(acc, lid) / fm;
  let invstd = inverseSqrt(variance + EPS);
  if (lid == 0u) {
    saved[g] = mean;
    saved[p.g + g] = invstd;
    if (UPDATE_RUNNING == 1u) {
      let unbiased = select(variance, variance * fm / (fm - 1.0), m > 1u);
      running[g] = (1.0 - MOMENTUM) * running[g] + MOMENTUM * mean;
      running[p.g + g] = (1.0 - MOMENTUM) * running[p.g + g] + MOMENTUM * unbiased;
    }
  }
  let scale = (gamma[g] + GAMMA_OFFSET) * invstd;
  let shift = beta[g] - mean * scale;
  for (var j = lid; j < m; j += WG) {
    let a = j / p.s;
    let i = (a * p.g + g) * p.s + (j - a * p.s);
    y[i] = x[i] * scale + shift;
  }
}
