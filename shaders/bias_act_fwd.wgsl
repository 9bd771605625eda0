// bias_act_fwd: y = act(x + bias[c]) for x of shape (N, C, S), S = H*W (or 1 for (N, F) features).
// act (override ACT): 0 identity, 1 ReLU, 2 leaky ReLU (slope SLOPE), 3 tanh, 4 sigmoid.
// Bindings: 0 x (N*C*S) read; 1 bias (C) read (HAS_BIAS = 0 skips it); 2 y (N*C*S) write (may alias no input);
//           3 uniform { total: u32 = N*C*S, c: u32, s: u32 }.
// Dispatch: 1-D over N*C*S elements, WG invocations a group, folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 256;
override ACT: u32 = 0u;
override SLOPE: f32 = 0.2;
override HAS_BIAS: u32 = 1u;

struct Params { total: u32, c: u32, s: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bias: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn act(v: f32) -> f32 {
  switch ACT {
    case 1u: { return max(v, 0.0); }
    case 2u: { return select(v * SLOPE, v, v > 0.0); }
    case 3u: { return tanh(v); }
    case 4u: { return 1.0 / (1.0 + exp(-v)); }
    default: { return v; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  var v = x[i];
  if (HAS_BIAS == 1u) { v += bias[(i / p.s) % p.c]; }
  y[i] = act(v);
}
