// bn_relu_fwd_lanes: bn_relu_fwd (see there for the maths, bindings and uniform) with one workgroup of WG lanes
// per channel instead of one invocation: lane l takes the values l, l + WG, ... of each sample's channel
// plane (of each output row with POOL), and the statistics' two sums meet in workgroup memory behind one
// barrier. Each lane loops over 1/WG of the channel's N*S values, which keeps it under llvmpipe's cap of
// 65535 loop iterations per invocation (a loop that reaches it silently stops). bn_relu.ts picks WG (a power
// of two) so that a lane stays under the cap.
// Bindings: as bn_relu_fwd. Dispatch: one workgroup per channel, folded by grid1d.
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

var<workgroup> part: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= p.c) { return; }
  var mean: f32;
  var invstd: f32;
  if (TRAINING == 1u) {
    let k = x[g * p.s];
    var s1 = 0.0;
    var s2 = 0.0;
    for (var a = 0u; a < p.n; a++) {
      let base = a * p.xs + g * p.s;
      for (var j = lid; j < p.s; j += WG) {
        let d = x[base + j] - k;
        s1 += d;
        s2 += d * d;
      }
    }
    part[lid] = vec2<f32>(s1, s2);
  }
  workgroupBarrier();
  if (TRAINING == 1u) {
    var tot = vec2<f32>(0.0);
    for (var l = 0u; l < WG; l++) { tot += part[l]; }
    let m = f32(p.n * p.s);
    let md = tot.x / m;
    let variance = max(tot.y / m - md * md, 0.0);
    mean = x[g * p.s] + md;
    invstd = inverseSqrt(variance + EPS);
    if (lid == 0u) {
      saved[g] = mean;
      saved[p.c + g] = invstd;
      let unbiased = select(variance, variance * m / (m - 1.0), m > 1.0);
      running[g] = (1.0 - MOMENTUM) * running[g] + MOMENTUM * mean;
      running[p.c + g] = (1.0 - MOMENTUM) * running[p.c + g] + MOMENTUM * unbiased;
    }
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
        for (var ox = lid; ox < wo; ox += WG) {
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
    for (var j = lid; j < p.s; j += WG) {
      r[out + j] = max(x[base + j] * scale + shift, 0.0);
    }
  }
}
