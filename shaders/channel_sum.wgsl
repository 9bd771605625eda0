// channel_sum: out[c] += sum over n < N, s < S of g[n, c, s], for g of shape (N, C, S). Used for bias
// gradients (accumulate, +=) of conv (S = H*W) and linear (S = 1) layers.
// Bindings: 0 g (N*C*S) read; 1 out (C) read_write; 2 uniform { n: u32, c: u32, s: u32 }.
// Dispatch: (C, 1, 1) workgroups; the WG invocations of group c stride over the N*S values of channel c,
// then reduce in workgroup memory (one barrier per halving).
override WG: u32 = 64;

struct Params { n: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> outp: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let m = p.n * p.s;
  var acc = 0.0;
  for (var j = lid; j < m; j += WG) {
    let n = j / p.s;
    let s = j - n * p.s;
    acc += g[(n * p.c + c) * p.s + s];
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { outp[c] += part[0]; }
}
