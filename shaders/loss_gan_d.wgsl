// loss_gan_d: discriminator loss on logits of real (Nr) and fake (Nf) samples.
//   LOSS = 0 hinge:    mean relu(1 - real) + mean relu(1 + fake)
//   LOSS = 1 logistic: mean softplus(-real) + mean softplus(fake)   (non-saturating GAN, D side)
// Writes dreal, dfake (=) = scale * d loss / d logit (relu'(0) taken as 0), and the UNSCALED loss into
// lossOut[slot] (= or += when accumulate = 1).
// Bindings: 0 real (Nr) read; 1 fake (Nf) read; 2 dreal (Nr) read_write; 3 dfake (Nf) read_write;
//           4 lossOut (>= slot+1) read_write; 5 uniform { nr: u32, nf: u32, slot: u32, accumulate: u32, scale: f32 }.
// Dispatch: ONE workgroup of WG (a power of two) invocations striding over both, tree reduction in workgroup
// memory (batches are small).
override WG: u32 = 256;
override LOSS: u32 = 0u;

struct Params { nr: u32, nf: u32, slot: u32, accumulate: u32, scale: f32 }

@group(0) @binding(0) var<storage, read> real: array<f32>;
@group(0) @binding(1) var<storage, read> fake: array<f32>;
@group(0) @binding(2) var<storage, read_write> dreal: array<f32>;
@group(0) @binding(3) var<storage, read_write> dfake: array<f32>;
@group(0) @binding(4) var<storage, read_write> lossOut: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

fn softplus(x: f32) -> f32 { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }

fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  let ir = 1.0 / f32(max(p.nr, 1u));
  let jf = 1.0 / f32(max(p.nf, 1u));
  var sr = 0.0;
  var sf = 0.0;
  for (var i = lid; i < p.nr; i += WG) {
    let r = real[i];
    if (LOSS == 0u) {
      sr += max(1.0 - r, 0.0);
      dreal[i] = select(0.0, -p.scale * ir, r < 1.0);
    } else {
      sr += softplus(-r);
      dreal[i] = -p.scale * ir * sigmoid(-r);
    }
  }
  for (var i = lid; i < p.nf; i += WG) {
    let f = fake[i];
    if (LOSS == 0u) {
      sf += max(1.0 + f, 0.0);
      dfake[i] = select(0.0, p.scale * jf, f > -1.0);
    } else {
      sf += softplus(f);
      dfake[i] = p.scale * jf * sigmoid(f);
    }
  }
  part[lid] = sr * ir + sf * jf;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (p.accumulate == 1u) { lossOut[p.slot] += part[0]; } else { lossOut[p.slot] = part[0]; }
  }
}
