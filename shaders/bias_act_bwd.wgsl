// bias_act_bwd: dx = dy * act'(.) for y = act(x + bias), using the saved OUTPUT y (so the pre-activation
// need not be kept): ReLU 1[y>0]; leaky ReLU 1 or SLOPE by sign of y (same sign as the input for SLOPE > 0);
// tanh 1 - y^2; sigmoid y (1 - y); identity 1. Writes dx (=), may alias dy (in place).
// Bindings: 0 dy (T) read; 1 y (T) read; 2 dx (T) read_write; 3 uniform { total: u32 }.
// Dispatch: 1-D over T = N*C*S elements, WG a group, folded by grid1d.
override WG: u32 = 256;
override ACT: u32 = 0u;
override SLOPE: f32 = 0.2;

struct Params { total: u32 }

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn dact(o: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, o > 0.0); }
    case 2u: { return select(SLOPE, 1.0, o > 0.0); }
    case 3u: { return 1.0 - o * o; }
    case 4u: { return o * (1.0 - o); }
    default: { return 1.0; }
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  dx[i] = dy[i] * dact(y[i]);
}
