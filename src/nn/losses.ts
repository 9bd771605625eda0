/**
 * Losses on logits, on the GPU and as CPU references: class-weighted multi-label BCE (the paper's
 * classifier) and the GAN losses (hinge; non-saturating logistic) for D and G.
 *
 * Each GPU loss is one dispatch of one workgroup that writes the gradient with respect to the logits
 * (=, multiplied by `scale`, so a GAN can weight an auxiliary loss) and the mean loss into one slot of a
 * small GPU tensor (a "loss log"). Nothing is read back: a trainer reads the loss log every N steps, and
 * with `accumulate: true` the slot sums the losses of the steps in between. The loss written is NOT
 * multiplied by `scale`, so logs show the loss itself.
 * @module
 */

import { WGSL } from "../gpu/_shaders.generated.ts";
import type { Recorder } from "../gpu/gpu.ts";
import type { Kernel } from "../gpu/kernel.ts";
import { assertDistinct, type Tensor } from "../gpu/tensor.ts";

/** How a loss is written and weighted. */
export interface LossOptions {
  /** Multiplies the gradients (not the logged loss). Default 1. */
  scale?: number;
  /** Index of the loss-log element to write. Default 0. */
  slot?: number;
  /** Add the loss to `lossOut[slot]` instead of overwriting it. Default false. */
  accumulate?: boolean;
}

/** GAN loss family: hinge (with spectral norm, the stable default) or the non-saturating logistic loss. */
export type GanLoss = "hinge" | "logistic";

const GAN_CODE: Record<GanLoss, number> = { hinge: 0, logistic: 1 };
const WG = 256;

/** The bits of x as a float32: an f32 field (a loss weight) of a uniform written as u32 words. */
export function f32Bits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0];
}

function lossOpts(name: string, lossOut: Tensor, o: LossOptions): [number, number, number] {
  const slot = o.slot ?? 0;
  const scale = o.scale ?? 1;
  if (!Number.isInteger(slot) || slot < 0 || slot >= lossOut.size) {
    throw new Error(`${name}: slot ${slot} is outside lossOut of shape (${lossOut.shape})`);
  }
  if (!Number.isFinite(scale)) throw new Error(`${name}: scale must be a finite number, got ${scale}`);
  return [slot, o.accumulate ? 1 : 0, f32Bits(scale)];
}

function bceKernel(hasMask: boolean): Kernel {
  return {
    name: `loss_bce${hasMask ? ".mask" : ""}`,
    code: WGSL.loss_bce,
    constants: { WG, HAS_MASK: hasMask ? 1 : 0 },
    workgroupSize: [WG, 1, 1],
  };
}

function ganKernel(side: "d" | "g", kind: GanLoss): Kernel {
  return {
    name: `loss_gan_${side}.${kind}`,
    code: side === "d" ? WGSL.loss_gan_d : WGSL.loss_gan_g,
    constants: { WG, LOSS: GAN_CODE[kind] },
    workgroupSize: [WG, 1, 1],
  };
}

/**
 * Class-weighted multi-label BCE on logits:
 * loss = -mean over N*L of [wPos[l] y log s(z) + wNeg[l] (1 - y) log(1 - s(z))], in the stable softplus
 * form. With `mask` (N, L) each term is multiplied by the mask and the mean divides by the mask's sum
 * (a sum of 0 gives loss 0 and zero gradients). Writes `dlogits` (=) and `lossOut[slot]`.
 */
export function bceWithLogits(
  rec: Recorder,
  logits: Tensor, // (N, L)
  targets: Tensor, // (N, L) in [0, 1]
  posWeight: Tensor, // (L)
  negWeight: Tensor, // (L)
  dlogits: Tensor, // (N, L), written
  lossOut: Tensor, // (K) loss log
  opts: LossOptions & { mask?: Tensor | null } = {},
): void {
  if (logits.shape.length !== 2) {
    throw new Error(`bceWithLogits: logits must be (N, L), got (${logits.shape})`);
  }
  const l = logits.shape[1];
  for (const [name, t] of [["targets", targets], ["dlogits", dlogits], ["mask", opts.mask]] as const) {
    if (t && t.size !== logits.size) {
      throw new Error(
        `bceWithLogits: ${name} has shape (${t.shape}), logits (${logits.shape}): sizes differ`,
      );
    }
  }
  for (const [name, t] of [["posWeight", posWeight], ["negWeight", negWeight]] as const) {
    if (t.size !== l) throw new Error(`bceWithLogits: ${name} has ${t.size} values, needs L = ${l}`);
  }
  const mask = opts.mask ?? null;
  assertDistinct("bceWithLogits", [dlogits, lossOut], [
    logits,
    targets,
    posWeight,
    negWeight,
    ...(mask ? [mask] : []),
  ], true);
  const [slot, acc, scale] = lossOpts("bceWithLogits", lossOut, opts);
  rec.dispatch(
    bceKernel(mask !== null),
    [
      logits,
      targets,
      posWeight,
      negWeight,
      mask ?? targets,
      dlogits,
      lossOut,
      rec.gpu.uniform([logits.size, l, slot, acc, scale]),
    ],
    [1, 1, 1],
  );
}

/**
 * Discriminator loss on the logits of real and fake samples: hinge
 * mean relu(1 - real) + mean relu(1 + fake), or logistic mean softplus(-real) + mean softplus(fake).
 * Writes `dreal`, `dfake` (=) and `lossOut[slot]`.
 */
export function ganLossD(
  rec: Recorder,
  kind: GanLoss,
  real: Tensor, // (Nr) or (Nr, 1)
  fake: Tensor, // (Nf) or (Nf, 1)
  dreal: Tensor, // like real, written
  dfake: Tensor, // like fake, written
  lossOut: Tensor, // (K) loss log
  opts: LossOptions = {},
): void {
  if (dreal.size !== real.size || dfake.size !== fake.size) {
    throw new Error(
      `ganLossD: gradient sizes (${dreal.shape}), (${dfake.shape}) must match logits (${real.shape}), (${fake.shape})`,
    );
  }
  assertDistinct("ganLossD", [dreal, dfake, lossOut], [real, fake], true);
  const [slot, acc, scale] = lossOpts("ganLossD", lossOut, opts);
  rec.dispatch(
    ganKernel("d", kind),
    [real, fake, dreal, dfake, lossOut, rec.gpu.uniform([real.size, fake.size, slot, acc, scale])],
    [1, 1, 1],
  );
}

/**
 * Generator loss on the discriminator's logits of fake samples: hinge -mean fake, or logistic
 * (non-saturating) mean softplus(-fake). Writes `dfake` (=) and `lossOut[slot]`.
 */
export function ganLossG(
  rec: Recorder,
  kind: GanLoss,
  fake: Tensor, // (N) or (N, 1)
  dfake: Tensor, // like fake, written
  lossOut: Tensor, // (K) loss log
  opts: LossOptions = {},
): void {
  if (dfake.size !== fake.size) {
    throw new Error(`ganLossG: dfake (${dfake.shape}) must match fake (${fake.shape})`);
  }
  assertDistinct("ganLossG", [dfake, lossOut], [fake], true);
  const [slot, acc, scale] = lossOpts("ganLossG", lossOut, opts);
  rec.dispatch(
    ganKernel("g", kind),
    [fake, dfake, lossOut, rec.gpu.uniform([fake.size, slot, acc, scale])],
    [1, 1, 1],
  );
}

// ---------------------------------------------------------------- CPU reference

type Arr = Float32Array | Float64Array;

/** softplus(x) = log(1 + e^x), stable for any x. */
export function softplusRef(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** The logistic sigmoid, stable for any x. */
export function sigmoidRef(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** CPU reference of {@linkcode bceWithLogits}: the loss (unscaled) and dlogits (times `scale`). */
export function bceWithLogitsRef(
  logits: Arr, // (N, L)
  targets: Arr, // (N, L)
  posWeight: Arr, // (L)
  negWeight: Arr, // (L)
  mask: Arr | null = null, // (N, L)
  scale = 1,
): { loss: number; grad: Float64Array } {
  const l = posWeight.length;
  let denom = logits.length;
  if (mask) {
    denom = 0;
    for (let i = 0; i < mask.length; i++) denom += mask[i];
  }
  const inv = denom !== 0 ? 1 / denom : 0;
  const grad = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i], y = targets[i], m = mask ? mask[i] : 1;
    const a = m * posWeight[i % l] * y, b = m * negWeight[i % l] * (1 - y);
    sum += a * softplusRef(-z) + b * softplusRef(z);
    grad[i] = scale * inv * (b * sigmoidRef(z) - a * sigmoidRef(-z));
  }
  return { loss: sum * inv, grad };
}

/** CPU reference of {@linkcode ganLossD}. */
export function ganLossDRef(
  kind: GanLoss,
  real: Arr,
  fake: Arr,
  scale = 1,
): { loss: number; dreal: Float64Array; dfake: Float64Array } {
  const ir = 1 / Math.max(real.length, 1), jf = 1 / Math.max(fake.length, 1);
  const dreal = new Float64Array(real.length), dfake = new Float64Array(fake.length);
  let loss = 0;
  for (let i = 0; i < real.length; i++) {
    const r = real[i];
    if (kind === "hinge") {
      loss += Math.max(1 - r, 0) * ir;
      dreal[i] = r < 1 ? -scale * ir : 0;
    } else {
      loss += softplusRef(-r) * ir;
      dreal[i] = -scale * ir * sigmoidRef(-r);
    }
  }
  for (let i = 0; i < fake.length; i++) {
    const f = fake[i];
    if (kind === "hinge") {
      loss += Math.max(1 + f, 0) * jf;
      dfake[i] = f > -1 ? scale * jf : 0;
    } else {
      loss += softplusRef(f) * jf;
      dfake[i] = scale * jf * sigmoidRef(f);
    }
  }
  return { loss, dreal, dfake };
}

/** CPU reference of {@linkcode ganLossG}. */
export function ganLossGRef(kind: GanLoss, fake: Arr, scale = 1): { loss: number; dfake: Float64Array } {
  const inv = 1 / Math.max(fake.length, 1);
  const dfake = new Float64Array(fake.length);
  let loss = 0;
  for (let i = 0; i < fake.length; i++) {
    const f = fake[i];
    if (kind === "hinge") {
      loss -= f * inv;
      dfake[i] = -scale * inv;
    } else {
      loss += softplusRef(-f) * inv;
      dfake[i] = -scale * inv * sigmoidRef(-f);
    }
  }
  return { loss, dfake };
}
