// bn_relu_fwd: batch norm fused with the ReLU that follows it, in one pass of writes:
// r = max((x - mean[c]) * invstd[c] * gamma[c] + beta[c], 0), invstd = 1 / sqrt(var + EPS), for x of shape
// (N, C, S) (S = H*W, 1 for (N, F) features) read from a buffer whose samples are XS >= C*S values apart:
// x may be the first C channels of a wider (N, C', S) tensor (a dense block's shared feature buffer).
// TRAINING = 1: mean and biased variance over (N, S) per channel, saved[c] = mean, saved[C + c] = invstd for
// the backward, running[c] = (1 - MOMENTUM) running[c] + MOMENTUM mean and running[C + c] likewise with the
// UNBIASED variance (as PyTorch does). TRAINING = 0: mean and variance are running[c], running[C + c].
// The statistics take one pass over x: sums of d = x - x[first value of the channel] and d^2 (the shift keeps
// f32 variance accurate while the channel's mean is within a few standard deviations of that value).
// POOL = 1 also fuses the 2x2 average pooling that follows (S = H*W): r is (N, C, H/2, W/2) (floor), the mean
// of the four ReLU outputs of each window, and the full-resolution ReLU output is never written.
// Bindings: 0 x read; 1 gamma (C) read; 2 beta (C) read; 3 r (N*C*S, or N*C*(H/2)*(W/2) with POOL) write;
//           4 saved (2*C) write (TRAINING = 0: a dummy); 5 running (2*C) read_write;
//           6 uniform { n: u32, c: u32, s: u32, xs: u32, h: u32, w: u32 } (h, w: only with POOL).
// Dispatch: one invocation per channel, WG channels a workgroup, folded by grid1d. No workgroup memory and no
// barriers (both slow on CPU adapters); each invocation walks its channel's N*S values.
override WG: u32 = 8;
override EPS: f32 = 1e-5;
override MOMENTUM: f32 = 0.1;
override TRAINING: u32 = 1u;
override POOL: u32 = 0u;

struct Params { n: u32, c: u32, s: u32, xs: u32, h: u32, w: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> r: array<f32>;
@group(0) @binding(4) var<storage, read_write> saved: array<f32>;
@group(0) @binding(5) var<storage, read_write> running: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  if (g >= p.c) { return; }
  var mean: f32;
  var invstd: f32;
  if (TRAINING == 1u) {
    let k = x[g * p.s];
    var s1 = 0.0;
    var s2 = 0.0;
    for (var a = 0u; a < p.n; a++) {
      let base = a * p.xs + g * p.s;
      for (var j = 0u; j < p.s; j++) {
        let d = x[base + j] - k;
        s1 += d;
        s2 += d * d;
      }
    }
    let m = f32(p.n * p.s);
    let md = s1 / m;
    let variance = max(s2 / m - md * md, 0.0);
    mean = k + md;
    invstd = inverseSqrt(variance + EPS);
    saved[g] = mean;
    saved[p.c + g] = invstd;
    let unbiased = select(variance, variance * m / (m - 1.0), m > 1.0);
    running[g] = (1.0 - MOMENTUM) * running[g] + MOMENTUM * mean;
    running[p.c + g] = (1.0 - MOMENTUM) * running[p.c + g] + MOMENTUM * unbiased;
  } else {
    mean = running[g];
    invstd = inverseSqrt(running[p.c + g] + EPS);
  }
  let scale = gamma[g] * invstd;
  let shift = beta[g] - mean * scale;
  if (POOL == 1u) {
    let ho = p.h / 2u;
    let wo = p.w / 2u;
    for (var a = 0u; a < p.n; a++) {
      let out = (a * p.c + g) * ho * wo;
      for (var oy = 0u; oy < ho; oy++) {
        let row = a * p.xs + g * p.s + 2u * oy * p.w;
        for (var ox = 0u; ox < wo; ox++) {
          let i = row + 2u * ox;
          let v = max(x[i] * scale + shift, 0.0) + max(x[i + 1u] * scale + shift, 0.0) +
            max(x[i + p.w] * scale + shift, 0.0) + max(x[i + p.w + 1u] * scale + shift, 0.0);
          r[out + oy * wo + ox] = 0.25 * v;
        }
      }
    }
    return;
  }
  for (var a = 0u; a < p.n; a++) {
    let base = a * p.xs + g * p.s;
    let out = (a * p.c + g) * p.s;
    for (var j = 0u; j < p.s; j++) {
      r[out + j] = max(x[base + j] * scale + shift, 0.0);
    }
  }
}
