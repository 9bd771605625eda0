// add_noise: v[i] += sigma * g(seed, i) in place, g a standard normal drawn from a counter-based hash (PCG
// of (seed, i), Box-Muller on two 24-bit uniforms), so the same seed gives the same noise on any device and
// the CPU reference (src/nn/noise.ts) reproduces it. The discriminator's instance noise: added to real and
// generated images alike, it hides differences below its scale (e.g. in pixel noise), so D and its
// auxiliary head must tell images and labels apart by larger structures.
// Bindings: 0 v (T) read_write; 1 uniform { total, seed, sigma (f32 bits): u32 }.
// Dispatch: 1-D over T, WG a group, folded into 2-D by grid1d (flat group = x + y*nx).
override WG: u32 = 256;

struct Params { total: u32, seed: u32, sigma: u32 }

@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

fn pcg(x: u32) -> u32 {
  let s = x * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= p.total) { return; }
  let a = pcg(p.seed ^ pcg(2u * i));
  let b = pcg(p.seed ^ pcg(2u * i + 1u));
  // uniforms in (0, 1] and [0, 1) from the top 24 bits (exact in f32)
  let u1 = (f32(a >> 8u) + 1.0) / 16777216.0;
  let u2 = f32(b >> 8u) / 16777216.0;
  let g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  v[i] += bitcast<f32>(p.sigma) * g;
}
