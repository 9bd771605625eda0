/**
 * The peer for the GAN-step benchmark: medsynth's cpd-GAN (see src/models/generator.ts and
 * discriminator.ts) written with tfjs ops and `tf.variableGrads`, trained with the same losses
 * (hinge + auxiliary BCE), spectral normalisation of D, minibatch std, Adam and the generator EMA.
 * Differentiable augmentation and the generator's noise inputs (GanConfig.gNoise) are left out (both only
 * make the peer faster). tfjs uses NHWC; the convs
 * come from src/bench/_tfjs_conv.ts (custom filter gradients on tfjs-wasm).
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import type { GanConfig } from "../models/config.ts";
import { tfjsConv, tfjsConvTranspose } from "./_tfjs_conv.ts";

type Tf = typeof TF;
type T4 = TF.Tensor4D;

/** One D + G training step of the peer GAN; `step()` resolves after the step's work has finished. */
export interface TfjsGan {
  step(): Promise<void>;
  dispose(): void;
}

/** Builds the peer GAN for a config and label count, with batch size `cfg.batchSize`. */
export function buildTfjsGan(tf: Tf, cfg: GanConfig, numLabels: number): TfjsGan {
  const N = cfg.batchSize, L = numLabels, Z = cfg.latentDim, C = cfg.imageChannels, R = cfg.resolution;
  const vars: TF.Variable[] = [];
  const v = (shape: number[], scale: number, name: string, trainable = true) => {
    const t = tf.variable(tf.randomNormal(shape, 0, scale), trainable, `${name}_${vars.length}`);
    vars.push(t);
    return t;
  };
  const he = (fanIn: number) => Math.sqrt(2 / fanIn);

  const conv = tfjsConv(tf), convT = tfjsConvTranspose(tf);
  const leaky = (x: TF.Tensor) => tf.leakyRelu(x, 0.2);

  // ---- generator
  const gch = cfg.gChannels;
  const condD = cfg.condInput === "label" ? L : cfg.condInput === "latent" ? Z : Z + L;
  const gFc = v([Z + L, gch[0] * 16], he(Z + L), "g_fc");
  type Norm = { g: TF.Variable; b: TF.Variable };
  const gNorms: Norm[] = [];
  const norm = (c: number) => {
    const n = {
      g: v([condD, c], 0.5 / Math.sqrt(condD), "g_ng"),
      b: v([condD, c], 0.5 / Math.sqrt(condD), "g_nb"),
    };
    gNorms.push(n);
    return n;
  };
  const gBlocks: {
    up: TF.Variable;
    upB: TF.Variable;
    n1: Norm;
    conv: TF.Variable;
    convB: TF.Variable;
    n2: Norm;
  }[] = [];
  const g0 = { n1: norm(gch[0]), conv: v([3, 3, gch[0], gch[0]], he(9 * gch[0]), "g_c0"), n2: norm(gch[0]) };
  for (let i = 1; i < gch.length; i++) {
    const convT = cfg.upsample === "convT";
    gBlocks.push({
      up: convT
        ? v([4, 4, gch[i], gch[i - 1]], he(4 * gch[i - 1]), "g_up")
        : v([3, 3, gch[i - 1], gch[i]], he(9 * gch[i - 1]), "g_up"),
      upB: v([gch[i]], 0, "g_upb"),
      n1: norm(gch[i]),
      conv: v([3, 3, gch[i], gch[i]], he(9 * gch[i]), "g_c"),
      convB: v([gch[i]], 0, "g_cb"),
      n2: norm(gch[i]),
    });
  }
  const gOut = v([1, 1, gch[gch.length - 1], C], he(gch[gch.length - 1]), "g_out");
  const gVars = vars.slice();

  const condNorm = (x: T4, cond: TF.Tensor2D, n: Norm): T4 => {
    const c = x.shape[3];
    const xn = tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), 3, true), 1e-8)));
    const g = tf.reshape(tf.matMul(cond, n.g), [N, 1, 1, c]);
    const b = tf.reshape(tf.matMul(cond, n.b), [N, 1, 1, c]);
    return tf.add(tf.mul(xn, tf.add(g, 1)), b) as T4;
  };
  const generate = (zy: TF.Tensor2D, cond: TF.Tensor2D): T4 => {
    let h = tf.reshape(tf.matMul(zy, gFc), [N, 4, 4, gch[0]]) as T4;
    h = leaky(condNorm(h, cond, g0.n1)) as T4;
    h = leaky(condNorm(conv(h, g0.conv as unknown as TF.Tensor4D, 1, 1), cond, g0.n2)) as T4;
    let res = 4;
    for (const b of gBlocks) {
      res *= 2;
      h = cfg.upsample === "convT"
        ? convT(h, b.up as unknown as TF.Tensor4D, [N, res, res, b.upB.shape[0]], 2)
        : conv(tf.image.resizeNearestNeighbor(h, [res, res]), b.up as unknown as TF.Tensor4D, 1, 1);
      h = leaky(condNorm(tf.add(h, b.upB) as T4, cond, b.n1)) as T4;
      h = leaky(
        condNorm(tf.add(conv(h, b.conv as unknown as TF.Tensor4D, 1, 1), b.convB) as T4, cond, b.n2),
      ) as T4;
    }
    return tf.tanh(conv(h, gOut as unknown as TF.Tensor4D, 1, 0)) as T4;
  };

  // ---- discriminator (weights spectrally normalised by one power iteration per D step)
  const dch = [...cfg.dChannels].reverse(); // from the image resolution down to 4x4
  const F = cfg.dFeatures;
  const dStart = vars.length;
  const sn: { w: TF.Variable; u: TF.Variable }[] = [];
  const dv = (shape: number[], fanIn: number, name: string) => {
    const w = v(shape, he(fanIn), name);
    const out = shape[shape.length - 1];
    sn.push({ w, u: v([out], 1, `${name}_u`, false) });
    return sn.length - 1;
  };
  const dIn = dv([1, 1, C, dch[0]], C, "d_in");
  const dBlocks: { c1: number; c2: number }[] = [];
  for (let i = 1; i < dch.length; i++) {
    dBlocks.push({
      c1: dv([3, 3, dch[i - 1], dch[i - 1]], 9 * dch[i - 1], "d_c1"),
      c2: dv([4, 4, dch[i - 1], dch[i]], 16 * dch[i - 1], "d_c2"),
    });
  }
  const last = dch[dch.length - 1];
  const dEndConv = dv([3, 3, last + 1, last], 9 * (last + 1), "d_end");
  const dFc = dv([16 * last, F], 16 * last, "d_fc");
  const dOut = dv([F, 1], F, "d_out");
  const dEmbed = dv([L, F], L, "d_embed");
  const dAux = dv([F, L], F, "d_aux");
  const dVars = vars.slice(dStart).filter((x) => x.trainable);

  /**
   * sigma of every D weight from one power-iteration step on its u (u updated), computed outside the
   * gradient tape, so W / sigma treats sigma as a constant, as medsynth's spectral norm does.
   */
  const sigmas = (): TF.Tensor[] =>
    tf.tidy(() =>
      sn.map(({ w, u }) => {
        const out = w.shape[w.shape.length - 1];
        const w2 = tf.reshape(w, [-1, out]); // (In, Out)
        const vv = tf.matMul(w2, tf.reshape(u, [out, 1])); // (In, 1)
        const vn = tf.div(vv, tf.add(tf.norm(vv), 1e-12));
        let un = tf.matMul(w2, vn, true, false); // (Out, 1)
        un = tf.div(un, tf.add(tf.norm(un), 1e-12));
        u.assign(tf.reshape(un, [out]));
        return tf.sum(tf.mul(tf.matMul(w2, un), vn));
      })
    );
  const mbstd = (x: T4): T4 => {
    const G = Math.min(cfg.mbstdGroup || 1, N);
    const [, H, W, Cc] = x.shape;
    const g = tf.reshape(x, [G, N / G, H, W, Cc]);
    const sd = tf.sqrt(tf.add(tf.mean(tf.square(tf.sub(g, tf.mean(g, 0, true))), 0), 1e-8)); // (M, H, W, C)
    const s = tf.mean(sd, [1, 2, 3]); // (M)
    const m = tf.add(tf.zeros([G, N / G, H, W, 1]), tf.reshape(s, [1, N / G, 1, 1, 1])); // broadcast
    return tf.concat([x, tf.reshape(m, [N, H, W, 1])], 3) as T4;
  };
  const discriminate = (x: T4, y: TF.Tensor2D, sig: TF.Tensor[]): { out: TF.Tensor; aux: TF.Tensor } => {
    const W = (i: number) => tf.div(sn[i].w, sig[i]) as TF.Tensor4D;
    let h = leaky(conv(x, W(dIn), 1, 0)) as T4;
    for (const b of dBlocks) {
      h = leaky(conv(h, W(b.c1), 1, 1)) as T4;
      h = leaky(conv(h, W(b.c2), 2, 1)) as T4;
    }
    h = leaky(conv(mbstd(h), W(dEndConv), 1, 1)) as T4;
    const f = leaky(tf.matMul(tf.reshape(h, [N, -1]) as TF.Tensor2D, W(dFc) as unknown as TF.Tensor2D));
    const e = tf.matMul(y, W(dEmbed) as unknown as TF.Tensor2D);
    const out = tf.matMul(tf.mul(f, tf.add(e, 1)) as TF.Tensor2D, W(dOut) as unknown as TF.Tensor2D);
    const aux = tf.matMul(f as TF.Tensor2D, W(dAux) as unknown as TF.Tensor2D);
    return { out, aux };
  };

  const optD = tf.train.adam(cfg.lrD, cfg.beta1 || 1e-8, cfg.beta2);
  const optG = tf.train.adam(cfg.lrG, cfg.beta1 || 1e-8, cfg.beta2);
  const ema = gVars.map((x) => tf.variable(x.clone(), false));
  const real = tf.randomUniform([N, R, R, C], -1, 1) as T4;
  const labels = tf.cast(tf.greater(tf.randomUniform([N, L]), 0.7), "float32") as TF.Tensor2D;
  const bce = (logits: TF.Tensor, t: TF.Tensor) => tf.losses.sigmoidCrossEntropy(t, logits);

  const step = async () => {
    const zy = tf.tidy(() => tf.concat([tf.randomNormal([N, Z]), labels], 1)) as TF.Tensor2D;
    const cond = cfg.condInput === "label"
      ? labels
      : cfg.condInput === "latent"
      ? tf.slice(zy, [0, 0], [N, Z])
      : zy;
    const sig = sigmas();
    const dLoss = optD.minimize(
      () => {
        const fake = generate(zy, cond); // only D's variables are differentiated here
        const r = discriminate(real, labels, sig);
        const f = discriminate(fake, labels, sig);
        const hinge = tf.add(tf.mean(tf.relu(tf.sub(1, r.out))), tf.mean(tf.relu(tf.add(1, f.out))));
        return tf.add(hinge, tf.mul(bce(r.aux, labels), cfg.auxWeightD)) as TF.Scalar;
      },
      true,
      dVars,
    );
    const gLoss = optG.minimize(
      () => {
        const d = discriminate(generate(zy, cond), labels, sig);
        return tf.add(tf.neg(tf.mean(d.out)), tf.mul(bce(d.aux, labels), cfg.auxWeightG)) as TF.Scalar;
      },
      true,
      gVars,
    );
    tf.tidy(() => {
      ema.forEach((e, i) => e.assign(tf.add(tf.mul(e, cfg.emaDecay), tf.mul(gVars[i], 1 - cfg.emaDecay))));
    });
    await Promise.all([dLoss!.data(), gLoss!.data()]);
    dLoss!.dispose();
    gLoss!.dispose();
    zy.dispose();
    for (const t of sig) t.dispose();
  };
  return {
    step,
    dispose: () => {
      for (const x of [...vars, ...ema, real, labels]) x.dispose();
      optD.dispose();
      optG.dispose();
    },
  };
}
