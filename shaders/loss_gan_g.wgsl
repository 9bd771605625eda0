// loss_gan_g: generator loss on the discriminator's logits of fake samples (N).
//   LOSS = 0 hinge:    -mean fake
//   LOSS = 1 logistic: mean softplus(-fake)   (non-saturating GAN, G side)
// Writes dfake (=) = scale * d loss / d logit, and the UNSCALED loss into lossOut[slot] (= or += when
// accumulate = 1).
// Bindings: 0 fake (N) read; 1 dfake (N) read_write; 2 lossOut (>= slot+1) read_write;
//           3 uniform { n: u32, slot: u32, accumulate: u32, scale: f32 }.
// Dispatch: ONE workgroup of WG (a power of two) invocations, tree reduction in workgroup memory.
override WG: u32 = 256;
override LOSS: u32 = 0u;

struct Params { n: u32, slot: u32, accumulate: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> fake: array<f32>;
@group(0) @binding(1) var<storage, read_write> dfake: array<f32>;
@group(0) @binding(2) var<storage, read_write> lossOut: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

fn softplus(x: f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }

fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let inv = 1.0 / f32(max(p.n, 1u));
  var acc = 0.0;
  for (var i = lid; i < p.n; i += WG) {
    let f = fake[i];
    if (LOSS == 0u) {
      acc -= f;
      dfake[i] = -p.scale * inv;
    } else {
      acc += softplus(-f);
      dfake[i] = -p.scale * inv * sigmoid(-f);
    }
  }
  part[lid] = acc * inv;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (p.accumulate == 1u) { lossOut[p.slot] += part[0]; } else { lossOut[p.slot] = part[0]; }
  }
}
