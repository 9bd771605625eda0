/**
 * The peer for the classifier-step benchmark: medsynth's DenseNet-style classifier (src/models/classifier.ts)
 * written with tfjs ops and trained like `ClassifierStepper` does: training-mode batch norm, ReLU, bias-free
 * convs, concatenating dense blocks, transitions with 2x2 average pooling, global average pooling, a linear
 * head, class-weighted BCE with logits and Adam. The running BN statistics are not updated (that only makes
 * the peer faster). tfjs uses NHWC; the convs come from src/bench/_tfjs_conv.ts.
 * @module
 */

import type * as TF from "@tensorflow/tfjs";
import type { ClassifierConfig } from "../models/classifier.ts";
import { BN_EPS } from "../nn/batch_norm.ts";
import { IMAGE_NORM_EPS, IMAGE_NORM_SAT } from "../nn/image_norm.ts";
import { tfjsConv } from "./_tfjs_conv.ts";

type T4 = TF.Tensor4D;

/** One training step of the peer classifier; `step()` resolves after the step's work has finished. */
export interface TfjsClassifier {
  step(): Promise<void>;
  dispose(): void;
}

/** Builds the peer classifier for a config, training on one fixed random batch of `n` images. */
export function buildTfjsClassifier(tf: typeof TF, cfg: ClassifierConfig, n: number): TfjsClassifier {
  const conv = tfjsConv(tf);
  const vars: TF.Variable[] = [];
  const v = (init: TF.Tensor) => {
    const t = tf.variable(init, true, `c_${vars.length}`);
    vars.push(t);
    return t;
  };
  const convW = (cin: number, cout: number, k: number) =>
    v(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (cin * k * k)))) as TF.Variable<
      TF.Rank.R4
    >;
  const bn = (c: number) => ({ g: v(tf.ones([c])), b: v(tf.zeros([c])) });
  type Bn = ReturnType<typeof bn>;
  const bnRelu = (x: T4, p: Bn): T4 => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.relu(tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BN_EPS))), p.g), p.b));
  };

  // the same plan as buildPlan in src/models/classifier.ts
  const stem = convW(cfg.inChannels, cfg.stemChannels, cfg.stemKernel);
  const stemBn = cfg.stemPool ? bn(cfg.stemChannels) : null;
  let c = cfg.stemChannels;
  const k = cfg.growthRate;
  type Layer = {
    bn1: Bn;
    conv1: TF.Variable<TF.Rank.R4>;
    bn2: Bn | null;
    conv2: TF.Variable<TF.Rank.R4> | null;
  };
  const blocks: { layers: Layer[]; trans: { bn: Bn; conv: TF.Variable<TF.Rank.R4> } | null }[] = [];
  cfg.blockDepths.forEach((depth, b) => {
    const layers: Layer[] = [];
    for (let i = 0; i < depth; i++) {
      if (cfg.bottleneck > 0) {
        const bw = cfg.bottleneck * k;
        layers.push({ bn1: bn(c), conv1: convW(c, bw, 1), bn2: bn(bw), conv2: convW(bw, k, 3) });
      } else {
        layers.push({ bn1: bn(c), conv1: convW(c, k, 3), bn2: null, conv2: null });
      }
      c += k;
    }
    let trans = null;
    if (b < cfg.blockDepths.length - 1) {
      const cout = Math.max(1, Math.floor(cfg.compression * c));
      trans = { bn: bn(c), conv: convW(c, cout, 1) };
      c = cout;
    }
    blocks.push({ layers, trans });
  });
  const headBn = bn(c);
  const fcW = v(tf.randomNormal([c, cfg.labels], 0, 1 / Math.sqrt(c)));
  const fcB = v(tf.zeros([cfg.labels]));

  // the input standardisation of src/nn/image_norm.ts: statistics over the unsaturated pixels of each plane
  const imageNorm = (x: T4): T4 => {
    const inside = tf.cast(tf.less(tf.abs(x), IMAGE_NORM_SAT), "float32");
    const count = tf.maximum(tf.sum(inside, [1, 2], true), 1);
    const mean = tf.div(tf.sum(tf.mul(x, inside), [1, 2], true), count);
    const variance = tf.div(tf.sum(tf.mul(tf.square(tf.sub(x, mean)), inside), [1, 2], true), count);
    return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, IMAGE_NORM_EPS)));
  };

  const forward = (x: T4): TF.Tensor2D => {
    let f = conv(cfg.inputNorm ? imageNorm(x) : x, stem, cfg.stemStride, (cfg.stemKernel - 1) / 2);
    if (stemBn) f = tf.avgPool(bnRelu(f, stemBn), 2, 2, "valid");
    for (const block of blocks) {
      for (const l of block.layers) {
        let h = conv(bnRelu(f, l.bn1), l.conv1, 1, l.conv2 ? 0 : 1);
        if (l.conv2 && l.bn2) h = conv(bnRelu(h, l.bn2), l.conv2, 1, 1);
        f = tf.concat([f, h], 3);
      }
      if (block.trans) f = tf.avgPool(conv(bnRelu(f, block.trans.bn), block.trans.conv, 1, 0), 2, 2, "valid");
    }
    const features = tf.mean(bnRelu(f, headBn), [1, 2]) as TF.Tensor2D;
    return tf.add(tf.matMul(features, fcW), fcB) as TF.Tensor2D;
  };

  const x = tf.randomUniform([n, cfg.size, cfg.size, cfg.inChannels], -1, 1) as T4;
  const y = tf.cast(tf.greater(tf.randomUniform([n, cfg.labels]), 0.7), "float32");
  const pos = tf.fill([cfg.labels], 2), neg = tf.fill([cfg.labels], 0.7);
  const weight = tf.add(tf.mul(y, pos), tf.mul(tf.sub(1, y), neg)); // class weight of each target
  const opt = tf.train.adam(3e-3, 0.9, 0.999);
  return {
    step: async () => {
      const loss = opt.minimize(
        () => tf.losses.sigmoidCrossEntropy(y, forward(x), weight) as TF.Scalar,
        true,
        vars,
      );
      await loss!.data();
      loss!.dispose();
    },
    dispose: () => {
      for (const t of [...vars, x, y, pos, neg, weight]) t.dispose();
      opt.dispose();
    },
  };
}
