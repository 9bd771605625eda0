// noise_inject_fwd: y[n, c, p] += s[c] * g(seed, (row0 + n) * P + p) in place, one standard-normal map per
// image and layer shared by all channels, scaled per channel by the learned strength s (StyleGAN's noise
// inputs: the generator gets per-pixel randomness to place small details, such as where a compact clot lies,
// instead of deriving every pixel from the one latent vector). g is add_noise's counter-based hash (PCG of
// (seed, i), Box-Muller on two 24-bit uniforms): the seed and the image's row index name the noise exactly,
// so row i of a sample gets the same map whatever the batch it is drawn in, and the CPU reference
// (src/nn/noise_inject.ts) reproduces it.
// Bindings: 0 y (N, C, P) read_write, P = H * W; 1 s (C); 2 uniform { n, c, p, seed, row0: u32 }.
// Dispatch: 1-D over N * P pixels, WG a group, folded into 2-D by grid1d; each invocation draws its pixel's
// noise once and walks the C channels.
override WG: u32 = 256;

struct Params { n: u32, c: u32, p: u32, seed: u32, row0: u32 }

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> s: array<f32>;
@group(0) @binding(2) var<uniform> u: Params;

fn pcg(x: u32) -> u32 {
  let t = x * 747796405u + 2891336453u;
  let w = ((t >> ((t >> 28u) + 4u)) ^ t) * 277803737u;
  return (w >> 22u) ^ w;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid;
  if (i >= u.n * u.p) { return; }
  let n = i / u.p;
  let px = i - n * u.p;
  let e = (u.row0 + n) * u.p + px;
  let a = pcg(u.seed ^ pcg(2u * e));
  let b = pcg(u.seed ^ pcg(2u * e + 1u));
  let u1 = (f32(a >> 8u) + 1.0) / 16777216.0;
  let u2 = f32(b >> 8u) / 16777216.0;
  let g = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  let base = n * u.c * u.p + px;
  for (var c = 0u; c < u.c; c++) {
    y[base + c * u.p] += s[c] * g;
  }
}
