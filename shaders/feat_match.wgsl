// feat_match: class-conditional feature matching for the generator. For every label l and feature f, the
// mean of D's features h over the batch's images WITH label l and over those WITHOUT it, for real and for
// generated images, each folded into an exponential moving average with a bias-correction weight:
//   m <- decay m + (1 - decay) batch_mean,  w <- decay w + (1 - decay)   (both only when the batch has such
//   images), and the estimate is m / w (so a label missing from early batches starts at its first mean).
// Loss (unscaled, into lossOut[slot]), of the estimates:
//   MODE 0 "means":    (1/L) sum_l sum_f [(mF+ - mR+)^2 + (mF- - mR-)^2]  (a pair counts once both slots
//                      have folded a batch);
//   MODE 1 "contrast": (1/L) sum_l sum_f [(mF+ - mF-) - (mR+ - mR-)]^2    (once all four have): what the
//                      label changes in D's features, generated vs real, leaving the overall real vs
//                      generated difference to D's own loss.
// dhFake[i, f] (=) = scale (2/L) sum_l [y_il d1_l / n+_l + (1 - y_il) d0_l / n-_l], n counted in this batch's
// generated images, d1 = mF+ - mR+, d0 = mF- - mR- (means) or d1 = -d0 = the contrast difference: with decay
// 0 the exact gradient; with decay > 0 the batch's images move along the smoothed difference (no pull toward
// a batch's own noise).
// Bindings: 0 hReal (N, F) read; 1 yReal (N, L) read; 2 hFake (N, F) read; 3 yFake (N, L) read;
//           4 state (4, L, 2, F) read_write: [real+, real-, fake+, fake-] x label x [means, weights] x feature
//             (the weight is the same for every feature; each lane keeps its own copy, so no lane writes
//             another's values);
//           5 dhFake (N, F) write; 6 lossOut (>= slot + 1) read_write;
//           7 uniform { n: u32, f: u32, l: u32, slot: u32, accumulate: u32, scale: f32, decay: f32 }.
// Dispatch: ONE workgroup of WG (a power of two) lanes; lane k handles features k, k + WG, ...
// (L <= MAX_L; each lane runs about 2 N L loop iterations per feature, far under llvmpipe's loop cap).
override WG: u32 = 64;
override MODE: u32 = 0u;
// a const, not an override: function-scope arrays need a size known when the shader is created
const MAX_L: u32 = 32u;

struct Params { n: u32, f: u32, l: u32, slot: u32, accumulate: u32, scale: f32, decay: f32 }

@group(0) @binding(0) var<storage, read> hReal: array<f32>;
@group(0) @binding(1) var<storage, read> yReal: array<f32>;
@group(0) @binding(2) var<storage, read> hFake: array<f32>;
@group(0) @binding(3) var<storage, read> yFake: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
@group(0) @binding(5) var<storage, read_write> dhFake: array<f32>;
@group(0) @binding(6) var<storage, read_write> lossOut: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> part: array<f32, WG>;

// Folds the batch's mean of feature f over images with (pos) or without the label into EMA slot s and returns
// the bias-corrected estimate (0 while the slot has never seen such an image).
fn fold(s: u32, lab: u32, f: u32, sum: f32, cnt: f32) -> f32 {
  let row = (s * p.l + lab) * 2u * p.f;
  if (cnt > 0.0) {
    state[row + f] = p.decay * state[row + f] + (1.0 - p.decay) * (sum / cnt);
    state[row + p.f + f] = p.decay * state[row + p.f + f] + (1.0 - p.decay);
  }
  let w = state[row + p.f + f];
  return select(0.0, state[row + f] / w, w > 0.0);
}

// Whether EMA slot s of label lab has folded any batch yet.
fn seen(s: u32, lab: u32, f: u32) -> bool { return state[((s * p.l + lab) * 2u + 1u) * p.f + f] > 0.0; }

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var f = lid; f < p.f; f += WG) {
    var gp: array<f32, MAX_L>; // (mF+ - mR+) / n+ of the generated batch, per label
    var gn: array<f32, MAX_L>;
    for (var lab = 0u; lab < p.l; lab++) {
      var rs1 = 0.0; var rc1 = 0.0; var rs0 = 0.0; var rc0 = 0.0;
      var fs1 = 0.0; var fc1 = 0.0; var fs0 = 0.0; var fc0 = 0.0;
      for (var i = 0u; i < p.n; i++) {
        let yr = yReal[i * p.l + lab];
        let hr = hReal[i * p.f + f];
        rs1 += yr * hr; rc1 += yr; rs0 += (1.0 - yr) * hr; rc0 += 1.0 - yr;
        let yf = yFake[i * p.l + lab];
        let hf = hFake[i * p.f + f];
        fs1 += yf * hf; fc1 += yf; fs0 += (1.0 - yf) * hf; fc0 += 1.0 - yf;
      }
      // all four slots are folded before the differences: a slot that is still empty contributes nothing
      let mr1 = fold(0u, lab, f, rs1, rc1);
      let mr0 = fold(1u, lab, f, rs0, rc0);
      let mf1 = fold(2u, lab, f, fs1, fc1);
      let mf0 = fold(3u, lab, f, fs0, fc0);
      var d1: f32;
      var d0: f32;
      if (MODE == 0u) {
        d1 = select(0.0, mf1 - mr1, seen(0u, lab, f) && seen(2u, lab, f));
        d0 = select(0.0, mf0 - mr0, seen(1u, lab, f) && seen(3u, lab, f));
        acc += d1 * d1 + d0 * d0;
      } else {
        let all = seen(0u, lab, f) && seen(1u, lab, f) && seen(2u, lab, f) && seen(3u, lab, f);
        d1 = select(0.0, (mf1 - mf0) - (mr1 - mr0), all);
        d0 = -d1;
        acc += d1 * d1;
      }
      gp[lab] = select(0.0, d1 / fc1, fc1 > 0.0);
      gn[lab] = select(0.0, d0 / fc0, fc0 > 0.0);
    }
    let k = p.scale * 2.0 / f32(p.l);
    for (var i = 0u; i < p.n; i++) {
      var g = 0.0;
      for (var lab = 0u; lab < p.l; lab++) {
        let yf = yFake[i * p.l + lab];
        g += yf * gp[lab] + (1.0 - yf) * gn[lab];
      }
      dhFake[i * p.f + f] = k * g;
    }
  }
  part[lid] = acc / f32(p.l);
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) { part[lid] += part[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (p.accumulate == 1u) { lossOut[p.slot] += part[0]; } else { lossOut[p.slot] = part[0]; }
  }
}
