// ema_naive: exponential moving average of a flat parameter arena, one value per invocation:
//   ema = decay * ema + (1 - decay) * x      (omd = 1 - decay computed on the CPU in float64)
// Padding stays zero (both arenas are zero there).
// Bindings: 0 x (n) read; 1 ema (n) read_write; 2 uniform { decay: f32, omd: f32, n: u32 }.
// Dispatch: 1-D over n values, WG a group, folded by grid1d (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { decay: f32, omd: f32, n: u32 }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> ema: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.n) { return; }
  ema[i] = p.decay * ema[i] + p.omd * x[i];
}
