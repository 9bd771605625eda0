/**
 * The evaluation classifier: a DenseNet-style CNN (Huang et al. 2017) with a sigmoid multi-label head, as
 * the reference study used (DenseNet-121) to score real and synthetic data. Built from the `nn/` layers with
 * the forward and the backward written out explicitly (no autodiff).
 *
 * Architecture, (N, C, H, W) throughout:
 * ```
 * stem      conv KxK stride s (no bias)  [-> BN -> ReLU -> avgpool2 when stemPool]
 * block b   dense layer × depth_b:  F_l = concat(F_{l-1}, H_l(F_{l-1})),
 *             H_l = BN -> ReLU -> conv3x3 (k = growth rate)            (DenseNet)
 *             H_l = BN -> ReLU -> conv1x1 (bottleneck·k) -> BN -> ReLU -> conv3x3 (k)   (DenseNet-B)
 * trans b   BN -> ReLU -> conv1x1 (floor(compression·C)) -> avgpool2    (after every block but the last)
 * head      BN -> ReLU -> global average pool (the pooled features, (N, F)) -> linear -> L logits
 * ```
 * Convolutions carry no bias (a BN follows each), the linear layer does. BN running statistics are not
 * trained, so they live in a second {@linkcode ParamStore} (`stats`): one arena copy backs up a whole model
 * (weights + statistics) for "keep the best epoch".
 *
 * Backward order (reverse of the forward; parameter gradients accumulate, activation gradients are written):
 * ```
 * head      linear dW,db; dfeat = dlogits W; dr = GAP backward; dy = ReLU backward; BN backward -> dF_last
 * trans b   avgpool backward; conv1x1 dW; dr = conv1x1 input grad; ReLU; BN backward -> dF of block b
 * block b   for l = depth..1:  (dA, dnew) = split(dF_l); conv3x3 dW, input grad;
 *             [bottleneck: ReLU; BN2 backward; conv1x1 dW, input grad;]  ReLU; BN1 backward -> dX;
 *             dF_{l-1} = dA + dX
 * stem      [avgpool; ReLU; BN backward]; conv dW (no input gradient: the images are not trained)
 * ```
 * The sum dF_{l-1} = dA + dX (F_{l-1} feeds both the concat and layer l) is one elementwise add pass.
 *
 * Fused (the default, {@linkcode ClassifierOptions.fused}): every BN -> ReLU pair is one kernel each way
 * (src/nn/bn_relu.ts), and a dense block keeps its features in ONE buffer (N, C_block, H, W): the block's
 * input is copied into its first channels, each layer reads its input as the buffer's first channels and
 * writes only its k new channels after them, so no concat copies the growing features again. Backward, the
 * block's gradient buffer receives the whole gradient of the block's features; each layer reads its new
 * channels' gradient out of it and its BN1 backward adds (+=) the input gradient into the first channels,
 * which is dF_{l-1} = dA + dX without the split and the add. The stem's BN -> ReLU -> pool is one kernel
 * each way, and so is a transition's, which pools BEFORE its 1x1 conv (conv1x1 and 2x2 average pooling are
 * both linear and act on different axes, so they commute: the same function, on a quarter of the pixels).
 * The unfused path (`fused: false`) is the layer-by-layer reference.
 * @module
 */

import type { Gpu, Recorder } from "../gpu/gpu.ts";
import { type Param, ParamStore } from "../gpu/params.ts";
import { Tensor } from "../gpu/tensor.ts";
import { biasActBackward, biasActForward, biasActForwardRef } from "../nn/activation.ts";
import {
  batchNormBackward,
  batchNormForward,
  batchNormForwardRef,
  batchNormRunningInit,
} from "../nn/batch_norm.ts";
import { addForward } from "../nn/add.ts";
import { imageNormForward, imageNormForwardRef } from "../nn/image_norm.ts";
import { bnReluBackward, bnReluForward } from "../nn/bn_relu.ts";
import {
  concatBackward,
  concatForward,
  concatForwardRef,
  readChannels,
  writeChannels,
} from "../nn/concat.ts";
import {
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dForward,
  conv2dForwardRef,
  type Conv2dShape,
  type ConvVariant,
} from "../nn/conv2d.ts";
import { globalAvgPoolBackward, globalAvgPoolForward, globalAvgPoolRef } from "../nn/global_pool.ts";
import { linearBackwardInput, linearBackwardWeight, linearForward, linearForwardRef } from "../nn/linear.ts";
import { avgPool2Backward, avgPool2Forward, avgPool2Ref } from "../nn/pool.ts";
import { Rng } from "../util/rng.ts";

/** The architecture without the input/output sizes (what a preset fixes). */
export interface ClassifierArchitecture {
  /**
   * Standardise each image before the stem (src/nn/image_norm.ts): per image and channel, minus the mean,
   * over the standard deviation of its unsaturated pixels (those the CT window did not clip to -1 or 1: air
   * and bone). Patients' slices differ in tissue attenuation and noise, which hides thin findings; on the
   * 32 px phantom this took the `tiny` classifier's mean test AUROC from 0.78 to 0.84 at the same 20k
   * training images (the same standardisation over all pixels: 0.78, as the head's size then sets the
   * statistics). But it scored generated images by statistics of their partly clipped pixels: for 24-28k
   * image generators the synthetic-trained arm lost 0.03-0.05 AUROC (for the 100k one it gained 0.004), so
   * the gap grew by more than the yardstick improved. Off in the presets. Optional: absent means false.
   */
  inputNorm?: boolean;
  /** Output channels of the stem convolution (DenseNet-121: 64 = 2 × growth rate). */
  stemChannels: number;
  /** Kernel size of the stem convolution, odd (DenseNet-121: 7; small images: 3). */
  stemKernel: number;
  /** Stride of the stem convolution: 1 keeps the resolution (small images), 2 halves it. */
  stemStride: 1 | 2;
  /** Follow the stem conv by BN -> ReLU -> 2x2 average pooling (DenseNet's stem pooling; halves again). */
  stemPool: boolean;
  /** Growth rate k: channels each dense layer adds to its block's features (DenseNet-121: 32). */
  growthRate: number;
  /** Dense layers per block (DenseNet-121: [6, 12, 24, 16]); a transition follows each block but the last. */
  blockDepths: readonly number[];
  /** Bottleneck width factor b: 0 = plain BN-ReLU-conv3x3 layers; b > 0 = a conv1x1 to b·k channels first
   * (DenseNet-B; DenseNet-121 uses 4). */
  bottleneck: number;
  /** Compression θ of the transitions: their conv1x1 keeps floor(θ · C) channels (DenseNet-C: 0.5). */
  compression: number;
}

/** A full classifier configuration: the architecture plus input and output sizes. */
export interface ClassifierConfig extends ClassifierArchitecture {
  /** Whether the input is standardised (resolved: never absent). */
  inputNorm: boolean;
  /** Channels C of the input images (N, C, H, W). */
  inChannels: number;
  /** Height = width of the input images in pixels. */
  size: number;
  /** Number of labels L (sigmoid outputs). */
  labels: number;
}

/**
 * Presets. `tiny`: a 3x3 stride-1 stem at full resolution (16 channels -> BN -> ReLU -> 2x2 average
 * pooling), then three short blocks at 1/2, 1/4 and 1/8 resolution; the demo's default on a CPU (llvmpipe)
 * at 32 px. The nonlinearity at full resolution, before the first downsampling, serves the thin findings
 * along the skull (1-2 px bands at 32 px): on the 32 px phantom this stem learned faster per image seen than
 * a 5x5 stride-2 stem without pooling (no activation kept at full resolution), e.g. mean test AUROC 0.78 vs
 * 0.73 after 8k images, at about 0.85x its images per second (in 96 s on llvmpipe, two seeds: 0.776 / 0.753
 * vs 0.740 / 0.756). `paper`: DenseNet-121's layout (growth 32, blocks 6-12-24-16, bottleneck 4,
 * compression 0.5, 7x7/2 stem with pooling), the study's classifier, for real GPUs.
 */
export const CLASSIFIER_PRESETS: Readonly<Record<"tiny" | "paper", Readonly<ClassifierArchitecture>>> = {
  tiny: {
    // off: it raised TRTR (0.78 -> 0.84) but moved TSTR by generator-dependent amounts (-0.05 to +0.004)
    inputNorm: false,
    stemChannels: 16,
    stemKernel: 3,
    stemStride: 1,
    stemPool: true,
    growthRate: 8,
    blockDepths: [2, 3, 3],
    bottleneck: 0,
    compression: 0.5,
  },
  paper: {
    inputNorm: false,
    stemChannels: 64,
    stemKernel: 7,
    stemStride: 2,
    stemPool: true,
    growthRate: 32,
    blockDepths: [6, 12, 24, 16],
    bottleneck: 4,
    compression: 0.5,
  },
};

/** Name of a preset in {@linkcode CLASSIFIER_PRESETS}. */
export type ClassifierPreset = keyof typeof CLASSIFIER_PRESETS;

/**
 * A full config from a preset (or an explicit architecture), the data's sizes and optional overrides.
 * Throws (via {@linkcode validateClassifierConfig}) when the image is too small for the blocks.
 */
export function classifierConfig(
  preset: ClassifierPreset | ClassifierArchitecture,
  io: { inChannels: number; size: number; labels: number },
  overrides: Partial<ClassifierArchitecture> = {},
): ClassifierConfig {
  const arch = typeof preset === "string" ? CLASSIFIER_PRESETS[preset] : preset;
  if (!arch) throw new Error(`classifier: unknown preset "${preset}"; use one of tiny, paper`);
  const cfg: ClassifierConfig = {
    ...arch,
    ...overrides,
    inputNorm: overrides.inputNorm ?? arch.inputNorm ?? false,
    ...io,
    blockDepths: [...(overrides.blockDepths ?? arch.blockDepths)],
  };
  validateClassifierConfig(cfg);
  return cfg;
}

/** Spatial size after the stem (conv stride and optional pooling). */
function stemOutSize(cfg: ClassifierConfig): number {
  const pad = (cfg.stemKernel - 1) / 2;
  const conv = Math.floor((cfg.size + 2 * pad - cfg.stemKernel) / cfg.stemStride) + 1;
  return cfg.stemPool ? Math.floor(conv / 2) : conv;
}

/** Throws a clear error naming the bad field of a classifier config. */
export function validateClassifierConfig(cfg: ClassifierConfig): void {
  const posInt = (name: keyof ClassifierConfig, v: number) => {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`classifier config: ${name} must be a positive integer, got ${v}`);
    }
  };
  if (typeof cfg.inputNorm !== "boolean") {
    throw new Error(`classifier config: inputNorm must be true or false, got ${cfg.inputNorm}`);
  }
  posInt("inChannels", cfg.inChannels);
  posInt("size", cfg.size);
  posInt("labels", cfg.labels);
  posInt("stemChannels", cfg.stemChannels);
  posInt("stemKernel", cfg.stemKernel);
  posInt("growthRate", cfg.growthRate);
  if (cfg.stemKernel % 2 !== 1) {
    throw new Error(`classifier config: stemKernel must be odd, got ${cfg.stemKernel}`);
  }
  if (cfg.stemStride !== 1 && cfg.stemStride !== 2) {
    throw new Error(`classifier config: stemStride must be 1 or 2, got ${cfg.stemStride}`);
  }
  if (!Array.isArray(cfg.blockDepths) || cfg.blockDepths.length < 1) {
    throw new Error("classifier config: blockDepths must list at least one block");
  }
  cfg.blockDepths.forEach((d, i) => {
    if (!Number.isInteger(d) || d < 1) {
      throw new Error(`classifier config: blockDepths[${i}] must be >= 1, got ${d}`);
    }
  });
  if (!(cfg.bottleneck === 0 || (Number.isInteger(cfg.bottleneck) && cfg.bottleneck >= 1))) {
    throw new Error(
      `classifier config: bottleneck must be 0 (none) or an integer >= 1, got ${cfg.bottleneck}`,
    );
  }
  if (!(cfg.compression > 0 && cfg.compression <= 1)) {
    throw new Error(`classifier config: compression must be in (0, 1], got ${cfg.compression}`);
  }
  const s0 = stemOutSize(cfg);
  const last = Math.floor(s0 / 2 ** (cfg.blockDepths.length - 1));
  if (s0 < 1 || last < 1) {
    throw new Error(
      `classifier config: ${cfg.size} px images are too small for a stem of stride ${cfg.stemStride}` +
        `${
          cfg.stemPool ? " with pooling" : ""
        } and ${cfg.blockDepths.length} blocks; use larger images or fewer blocks`,
    );
  }
}

// ---------------------------------------------------------------- the plan of layers

/** A batch norm: learned scale/shift in `params`, running [mean | var] in `stats`. */
interface BnSpec {
  name: string;
  c: number;
  gamma: Param;
  beta: Param;
  running: Param;
}

/** A bias-free conv. */
interface ConvSpec {
  name: string;
  w: Param;
  cin: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
}

interface DenseLayerSpec {
  name: string;
  cin: number;
  size: number;
  bn1: BnSpec;
  conv1: ConvSpec; // conv3x3 (no bottleneck) or the conv1x1 bottleneck
  bn2: BnSpec | null; // bottleneck only
  conv2: ConvSpec | null; // bottleneck only: the conv3x3
}

interface TransitionSpec {
  name: string;
  size: number; // input size (output is floor(size / 2))
  bn: BnSpec;
  conv: ConvSpec;
}

interface BlockSpec {
  layers: DenseLayerSpec[];
  transition: TransitionSpec | null;
}

/** The layer plan of a config: names, channel counts and sizes, identical on GPU and CPU. */
interface Plan {
  stem: ConvSpec;
  stemBn: BnSpec | null;
  stemConvSize: number; // stem conv output size
  blocks: BlockSpec[];
  headBn: BnSpec;
  headSize: number;
  features: number;
  fcW: Param;
  fcB: Param;
}

function buildPlan(cfg: ClassifierConfig, params: ParamStore, stats: ParamStore, rng: Rng): Plan {
  const conv = (name: string, cin: number, cout: number, k: number, stride = 1): ConvSpec => {
    const std = Math.sqrt(2 / (cin * k * k)); // He init for ReLU nets
    return {
      name,
      w: params.add(`${name}.w`, [cout, cin, k, k], rng.normals(cout * cin * k * k, std)),
      cin,
      cout,
      k,
      stride,
      pad: (k - 1) / 2,
    };
  };
  const bn = (name: string, c: number): BnSpec => ({
    name,
    c,
    gamma: params.add(`${name}.gamma`, [c], new Float32Array(c).fill(1)),
    beta: params.add(`${name}.beta`, [c], new Float32Array(c)),
    running: stats.add(`${name}.running`, [2, c], batchNormRunningInit(c)),
  });
  const pad = (cfg.stemKernel - 1) / 2;
  const stemConvSize = Math.floor((cfg.size + 2 * pad - cfg.stemKernel) / cfg.stemStride) + 1;
  const stem = conv("stem.conv", cfg.inChannels, cfg.stemChannels, cfg.stemKernel, cfg.stemStride);
  const stemBn = cfg.stemPool ? bn("stem.bn", cfg.stemChannels) : null;
  let size = stemOutSize(cfg), c = cfg.stemChannels;
  const k = cfg.growthRate;
  const blocks: BlockSpec[] = [];
  cfg.blockDepths.forEach((depth, b) => {
    const layers: DenseLayerSpec[] = [];
    for (let i = 0; i < depth; i++) {
      const name = `block${b}.layer${i}`;
      const bn1 = bn(`${name}.bn1`, c);
      if (cfg.bottleneck > 0) {
        const bw = cfg.bottleneck * k;
        const conv1 = conv(`${name}.conv1`, c, bw, 1);
        const bn2 = bn(`${name}.bn2`, bw);
        const conv2 = conv(`${name}.conv2`, bw, k, 3);
        layers.push({ name, cin: c, size, bn1, conv1, bn2, conv2 });
      } else {
        layers.push({
          name,
          cin: c,
          size,
          bn1,
          conv1: conv(`${name}.conv`, c, k, 3),
          bn2: null,
          conv2: null,
        });
      }
      c += k;
    }
    let transition: TransitionSpec | null = null;
    if (b < cfg.blockDepths.length - 1) {
      const name = `trans${b}`;
      const cout = Math.max(1, Math.floor(cfg.compression * c));
      transition = { name, size, bn: bn(`${name}.bn`, c), conv: conv(`${name}.conv`, c, cout, 1) };
      c = cout;
      size = Math.floor(size / 2);
    }
    blocks.push({ layers, transition });
  });
  const headBn = bn("head.bn", c);
  const fcW = params.add("head.fc.w", [cfg.labels, c], rng.normals(cfg.labels * c, 1 / Math.sqrt(c)));
  const fcB = params.add("head.fc.b", [cfg.labels], new Float32Array(cfg.labels));
  return { stem, stemBn, stemConvSize, blocks, headBn, headSize: size, features: c, fcW, fcB };
}

function convShape(cs: ConvSpec, n: number, size: number): Conv2dShape {
  return { n, cin: cs.cin, h: size, w: size, cout: cs.cout, k: cs.k, stride: cs.stride, pad: cs.pad };
}

// ---------------------------------------------------------------- workspaces

/**
 * The activation (and, for training, gradient) tensors of one batch size. Tensors are created on first
 * use and reused afterwards, so a training step after the first allocates nothing.
 */
export class ClassifierWorkspace {
  private readonly tensors = new Map<string, Tensor>();
  /** Input images, (N, C, H, W): write a batch here before recording the forward. */
  readonly x: Tensor;
  /** Logits, (N, L). */
  readonly logits: Tensor;
  /** Pooled features (the head's global average pool), (N, F). */
  readonly features: Tensor;
  /** Gradient of the loss with respect to the logits, (N, L) (training workspaces). */
  readonly dlogits: Tensor;

  /** Allocates the workspace's fixed tensors for batch n. */
  constructor(
    readonly gpu: Gpu,
    readonly n: number,
    cfg: ClassifierConfig,
    features: number,
  ) {
    this.x = this.t("x", [n, cfg.inChannels, cfg.size, cfg.size]);
    this.logits = this.t("logits", [n, cfg.labels]);
    this.features = this.t("features", [n, features]);
    this.dlogits = this.t("dlogits", [n, cfg.labels]);
  }

  /** The tensor `name` of this shape, created on first use. */
  t(name: string, shape: readonly number[]): Tensor {
    let t = this.tensors.get(name);
    if (!t) {
      t = this.gpu.tensor(shape);
      this.tensors.set(name, t);
    } else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new Error(`classifier workspace: tensor ${name} is (${t.shape}), asked for (${shape})`);
    }
    return t;
  }

  /** Returns every tensor to the pool. */
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}

/** Options of a {@linkcode Classifier}. */
export interface ClassifierOptions {
  /** Seed of the weight initialisation (default 0). */
  seed?: number;
  /** Convolution kernels: "auto" (fast, default) or "naive" (debugging). */
  convVariant?: ConvVariant;
  /**
   * Fused BN + ReLU kernels and concat-free dense blocks (default true); false: batch norm, ReLU and
   * concat as separate layers (the reference path; the same results up to float rounding).
   */
  fused?: boolean;
}

/** Output of {@linkcode Classifier.infer}. */
export interface InferenceResult {
  /** Logits, (N, L) row-major (present when asked for). */
  logits?: Float32Array;
  /** Pooled features, (N, F) row-major (present when asked for). */
  features?: Float32Array;
}

/** A DenseNet-style multi-label classifier on the GPU. */
export class Classifier {
  /** Trainable parameters (conv, BN scale/shift, linear). */
  readonly params: ParamStore;
  /** BN running statistics (not trained; updated by training-mode forwards). */
  readonly stats: ParamStore;
  /** Number of pooled features F (the head's input). */
  readonly featureCount: number;
  private readonly plan: Plan;
  private readonly variant: ConvVariant;
  private readonly fused: boolean;
  private readonly workspaces = new Map<string, ClassifierWorkspace>();

  /** Declares and initialises (seeded He init) all parameters, and uploads them. */
  constructor(readonly gpu: Gpu, readonly config: ClassifierConfig, opts: ClassifierOptions = {}) {
    validateClassifierConfig(config);
    this.params = new ParamStore("classifier");
    this.stats = new ParamStore("classifier.bn_stats");
    this.plan = buildPlan(config, this.params, this.stats, new Rng(opts.seed ?? 0));
    this.featureCount = this.plan.features;
    this.variant = opts.convVariant ?? "auto";
    this.fused = opts.fused ?? true;
    this.params.build(gpu);
    this.stats.build(gpu);
  }

  /** The workspace for batch size `n` in training (with gradients) or evaluation mode, cached. */
  workspace(n: number, training: boolean): ClassifierWorkspace {
    const key = `${n}:${training}`;
    let ws = this.workspaces.get(key);
    if (!ws) {
      ws = new ClassifierWorkspace(this.gpu, n, this.config, this.featureCount);
      this.workspaces.set(key, ws);
    }
    return ws;
  }

  /** Releases every workspace's tensors to the pool. */
  disposeWorkspaces(): void {
    for (const ws of this.workspaces.values()) ws.dispose();
    this.workspaces.clear();
  }

  // ------------------------------------------------------------ forward

  /**
   * Records BN (training or evaluation mode) then ReLU of x's first bn.c channels (x may be a dense block's
   * wider feature buffer on the fused path); returns the ReLU output (N, bn.c, H, W).
   */
  private bnRelu(
    rec: Recorder,
    ws: ClassifierWorkspace,
    bn: BnSpec,
    x: Tensor,
    training: boolean,
  ): Tensor {
    const r = ws.t(`${bn.name}.r`, [x.shape[0], bn.c, ...x.shape.slice(2)]);
    const saved = training ? ws.t(`${bn.name}.saved`, [2, bn.c]) : null;
    if (this.fused) {
      bnReluForward(rec, x, bn.gamma.value, bn.beta.value, r, saved, bn.running.value, { training });
      return r;
    }
    const y = ws.t(`${bn.name}.y`, r.shape);
    batchNormForward(rec, x, bn.gamma.value, bn.beta.value, y, saved, bn.running.value, { training });
    biasActForward(rec, y, null, r, "relu");
    return r;
  }

  /** Fused path: BN (training or evaluation mode), ReLU and 2x2 average pooling of x into `pooled`. */
  private bnReluPool(
    rec: Recorder,
    ws: ClassifierWorkspace,
    bn: BnSpec,
    x: Tensor,
    pooled: Tensor,
    training: boolean,
  ): void {
    const saved = training ? ws.t(`${bn.name}.saved`, [2, bn.c]) : null;
    bnReluForward(rec, x, bn.gamma.value, bn.beta.value, pooled, saved, bn.running.value, {
      training,
      pool: true,
    });
  }

  /** The stem's input: ws.x, or with inputNorm each image standardised into the workspace's "x.norm". */
  private stemInput(rec: Recorder, ws: ClassifierWorkspace): Tensor {
    if (!this.config.inputNorm) return ws.x;
    const xn = ws.t("x.norm", ws.x.shape);
    imageNormForward(rec, ws.x, xn);
    return xn;
  }

  /** The stem's input of the last forward (what its weight gradient reads). */
  private lastStemInput(ws: ClassifierWorkspace): Tensor {
    return this.config.inputNorm ? ws.t("x.norm", ws.x.shape) : ws.x;
  }

  /** Records a bias-free conv of x (spatial size `size`) into y. */
  private conv(rec: Recorder, cs: ConvSpec, x: Tensor, y: Tensor, n: number, size: number): void {
    conv2dForward(rec, x, cs.w.value, null, y, convShape(cs, n, size), this.variant);
  }

  /**
   * Records the forward pass from `ws.x` to `ws.features` (N, F) and `ws.logits` (N, L). Training mode
   * uses batch statistics (saved for the backward) and updates the running statistics; evaluation mode
   * uses the running statistics.
   */
  forward(rec: Recorder, ws: ClassifierWorkspace, training: boolean): void {
    const { plan, config: cfg } = this, n = ws.n;
    const s0 = plan.stemConvSize;
    const stemOut = ws.t("stem.out", [n, cfg.stemChannels, s0, s0]);
    this.conv(rec, plan.stem, this.stemInput(rec, ws), stemOut, n, cfg.size);
    let f = stemOut;
    if (plan.stemBn) {
      f = ws.t("stem.pool", [n, cfg.stemChannels, s0 >> 1, s0 >> 1]);
      if (this.fused) {
        this.bnReluPool(rec, ws, plan.stemBn, stemOut, f, training);
      } else {
        avgPool2Forward(rec, this.bnRelu(rec, ws, plan.stemBn, stemOut, training), f);
      }
    }
    plan.blocks.forEach((block, b) => {
      // fused: the block's features live in one buffer; its input fills the first channels
      const feats = this.fused ? this.blockFeatures(ws, b) : null;
      if (feats) writeChannels(rec, f, feats, 0);
      for (const l of block.layers) {
        const r1 = this.bnRelu(rec, ws, l.bn1, feats ?? f, training);
        const nw = ws.t(`${l.name}.new`, [n, cfg.growthRate, l.size, l.size]);
        if (l.conv2 && l.bn2) {
          const b = ws.t(`${l.name}.bottleneck`, [n, l.conv1.cout, l.size, l.size]);
          this.conv(rec, l.conv1, r1, b, n, l.size);
          const r2 = this.bnRelu(rec, ws, l.bn2, b, training);
          this.conv(rec, l.conv2, r2, nw, n, l.size);
        } else {
          this.conv(rec, l.conv1, r1, nw, n, l.size);
        }
        if (feats) {
          writeChannels(rec, nw, feats, l.cin);
        } else {
          const out = ws.t(`${l.name}.out`, [n, l.cin + cfg.growthRate, l.size, l.size]);
          concatForward(rec, f, nw, out);
          f = out;
        }
      }
      if (feats) f = feats;
      const t = block.transition;
      if (t) {
        const out = ws.t(`${t.name}.out`, [n, t.conv.cout, t.size >> 1, t.size >> 1]);
        if (this.fused) {
          // pool before the 1x1 conv (the same function: both are linear and act on other axes), fused
          // with the BN -> ReLU: the conv runs on a quarter of the pixels
          const pr = ws.t(`${t.bn.name}.pooled`, [n, t.conv.cin, t.size >> 1, t.size >> 1]);
          this.bnReluPool(rec, ws, t.bn, f, pr, training);
          this.conv(rec, t.conv, pr, out, n, t.size >> 1);
        } else {
          const r = this.bnRelu(rec, ws, t.bn, f, training);
          const c = ws.t(`${t.name}.conv`, [n, t.conv.cout, t.size, t.size]);
          this.conv(rec, t.conv, r, c, n, t.size);
          avgPool2Forward(rec, c, out);
        }
        f = out;
      }
    });
    const r = this.bnRelu(rec, ws, plan.headBn, f, training);
    globalAvgPoolForward(rec, r, ws.features);
    linearForward(rec, ws.features, plan.fcW.value, plan.fcB.value, ws.logits);
  }

  // ------------------------------------------------------------ backward

  /**
   * ReLU backward from its output, then BN backward: dgamma, dbeta accumulated; dx written, or on the fused
   * path added (+=) into dx's first bn.c channels when `accumulate` (x and dx may be wider there). Fused,
   * `pool`: dr is the gradient of {@linkcode Classifier.bnReluPool}'s pooled output.
   */
  private bnReluGrad(
    rec: Recorder,
    ws: ClassifierWorkspace,
    bn: BnSpec,
    x: Tensor,
    dr: Tensor,
    dx: Tensor,
    accumulate = false,
    pool = false,
  ): void {
    if (this.fused) {
      const saved = ws.t(`${bn.name}.saved`, [2, bn.c]);
      const [gamma, beta] = [bn.gamma, bn.beta];
      const opts = { accumulate, pool };
      bnReluBackward(rec, x, dr, gamma.value, beta.value, saved, dx, gamma.grad, beta.grad, opts);
      return;
    }
    if (accumulate || pool) throw new Error("classifier: the unfused path has no accumulating or pooled BN");
    const r = ws.t(`${bn.name}.r`, x.shape), dy = ws.t(`${bn.name}.dy`, x.shape);
    biasActBackward(rec, dr, r, dy, null, "relu");
    batchNormBackward(
      rec,
      x,
      dy,
      bn.gamma.value,
      ws.t(`${bn.name}.saved`, [2, bn.c]),
      dx,
      bn.gamma.grad,
      bn.beta.grad,
    );
  }

  /**
   * Records the backward pass from `ws.dlogits` after a training-mode {@linkcode Classifier.forward} on the
   * same workspace: accumulates (+=) every parameter gradient into `params.grads`.
   */
  backward(rec: Recorder, ws: ClassifierWorkspace): void {
    const { plan, config: cfg } = this, n = ws.n;
    // head
    linearBackwardWeight(rec, ws.features, ws.dlogits, plan.fcW.grad, plan.fcB.grad);
    const dfeat = ws.t("head.dfeatures", ws.features.shape);
    linearBackwardInput(rec, ws.dlogits, plan.fcW.value, dfeat);
    const last = this.blockOutput(ws, plan.blocks.length - 1);
    const dr = ws.t(`${plan.headBn.name}.dr`, last.shape);
    globalAvgPoolBackward(rec, dfeat, dr);
    let df = ws.t(`${this.blockOutputName(plan.blocks.length - 1)}.grad`, last.shape); // written whole
    this.bnReluGrad(rec, ws, plan.headBn, last, dr, df);
    for (let b = plan.blocks.length - 1; b >= 0; b--) {
      const block = plan.blocks[b];
      const t = block.transition;
      if (t) {
        // df is the gradient of the transition's output; turn it into the block output's gradient
        const out = this.denseOutput(ws, b, block.layers.length - 1);
        const outName = this.fused
          ? `block${b}.features`
          : `${block.layers[block.layers.length - 1].name}.out`;
        const dOut = ws.t(`${outName}.grad`, out.shape);
        if (this.fused) {
          const pr = ws.t(`${t.bn.name}.pooled`, [n, t.conv.cin, t.size >> 1, t.size >> 1]);
          const dpr = ws.t(`${t.bn.name}.dpooled`, pr.shape), sh = convShape(t.conv, n, t.size >> 1);
          conv2dBackwardWeight(rec, pr, df, t.conv.w.grad, null, sh, this.variant);
          conv2dBackwardInput(rec, df, t.conv.w.value, dpr, sh, this.variant);
          this.bnReluGrad(rec, ws, t.bn, out, dpr, dOut, false, true);
        } else {
          const c = ws.t(`${t.name}.conv`, [n, t.conv.cout, t.size, t.size]);
          const dc = ws.t(`${t.name}.dconv`, c.shape);
          avgPool2Backward(rec, df, dc);
          const r = ws.t(`${t.bn.name}.r`, [n, t.conv.cin, t.size, t.size]);
          const sh = convShape(t.conv, n, t.size);
          conv2dBackwardWeight(rec, r, dc, t.conv.w.grad, null, sh, this.variant);
          const dr = ws.t(`${t.bn.name}.dr`, r.shape);
          conv2dBackwardInput(rec, dc, t.conv.w.value, dr, sh, this.variant);
          this.bnReluGrad(rec, ws, t.bn, out, dr, dOut);
        }
        df = dOut;
      }
      // fused: df is the gradient of the block's whole feature buffer; each layer adds its input's part
      const feats = this.fused ? this.blockFeatures(ws, b) : null;
      for (let i = block.layers.length - 1; i >= 0; i--) {
        const l = block.layers[i];
        const input = feats ?? (i > 0 ? this.denseOutput(ws, b, i - 1) : this.blockInput(ws, b));
        const nw = ws.t(`${l.name}.new`, [n, cfg.growthRate, l.size, l.size]);
        const dnew = ws.t(`${l.name}.dnew`, nw.shape);
        let dA: Tensor | null = null;
        if (feats) {
          readChannels(rec, df, l.cin, dnew);
        } else {
          dA = ws.t(`${l.name}.dA`, input.shape);
          concatBackward(rec, df, dA, dnew);
        }
        const r1 = ws.t(`${l.bn1.name}.r`, [n, l.cin, l.size, l.size]);
        const dr1 = ws.t(`${l.bn1.name}.dr`, r1.shape);
        if (l.conv2 && l.bn2) {
          const bt = ws.t(`${l.name}.bottleneck`, [n, l.conv1.cout, l.size, l.size]);
          const r2 = ws.t(`${l.bn2.name}.r`, bt.shape), dr2 = ws.t(`${l.bn2.name}.dr`, bt.shape);
          const s2 = convShape(l.conv2, n, l.size), s1 = convShape(l.conv1, n, l.size);
          conv2dBackwardWeight(rec, r2, dnew, l.conv2.w.grad, null, s2, this.variant);
          conv2dBackwardInput(rec, dnew, l.conv2.w.value, dr2, s2, this.variant);
          const dbt = ws.t(`${l.name}.dbottleneck`, bt.shape);
          this.bnReluGrad(rec, ws, l.bn2, bt, dr2, dbt);
          conv2dBackwardWeight(rec, r1, dbt, l.conv1.w.grad, null, s1, this.variant);
          conv2dBackwardInput(rec, dbt, l.conv1.w.value, dr1, s1, this.variant);
        } else {
          const s1 = convShape(l.conv1, n, l.size);
          conv2dBackwardWeight(rec, r1, dnew, l.conv1.w.grad, null, s1, this.variant);
          conv2dBackwardInput(rec, dnew, l.conv1.w.value, dr1, s1, this.variant);
        }
        if (feats) {
          this.bnReluGrad(rec, ws, l.bn1, feats, dr1, df, true); // dF_{l-1} = dA + dX in place
          continue;
        }
        const dX = ws.t(`${l.name}.dX`, input.shape);
        this.bnReluGrad(rec, ws, l.bn1, input, dr1, dX);
        const inName = i > 0 ? `${block.layers[i - 1].name}.out` : this.blockInputName(b);
        const dIn = ws.t(`${inName}.grad`, input.shape);
        addForward(rec, dA!, dX, dIn);
        df = dIn;
      }
      if (feats) {
        const input = this.blockInput(ws, b);
        const dIn = ws.t(`${this.blockInputName(b)}.grad`, input.shape);
        readChannels(rec, df, 0, dIn);
        df = dIn;
      }
    }
    // stem: df is the gradient of the stem's output
    const s0 = plan.stemConvSize;
    const stemOut = ws.t("stem.out", [n, cfg.stemChannels, s0, s0]);
    let dStem = df;
    if (plan.stemBn) {
      dStem = ws.t("stem.out.grad", stemOut.shape);
      if (this.fused) {
        this.bnReluGrad(rec, ws, plan.stemBn, stemOut, df, dStem, false, true);
      } else {
        const dr = ws.t(`${plan.stemBn.name}.dr`, stemOut.shape);
        avgPool2Backward(rec, df, dr);
        this.bnReluGrad(rec, ws, plan.stemBn, stemOut, dr, dStem);
      }
    }
    conv2dBackwardWeight(
      rec,
      this.lastStemInput(ws),
      dStem,
      plan.stem.w.grad,
      null,
      convShape(plan.stem, n, cfg.size),
      this.variant,
    );
  }

  /** Workspace name of block b's input (the stem's or the previous transition's output). */
  private blockInputName(b: number): string {
    if (b > 0) return `${this.plan.blocks[b - 1].transition!.name}.out`;
    return this.plan.stemBn ? "stem.pool" : "stem.out";
  }

  /** Block b's input tensor. */
  private blockInput(ws: ClassifierWorkspace, b: number): Tensor {
    const l = this.plan.blocks[b].layers[0];
    return ws.t(this.blockInputName(b), [ws.n, l.cin, l.size, l.size]);
  }

  /**
   * Output (concatenated features) of dense layer i of block b; on the fused path the last layer's is the
   * block's feature buffer (the others are its first channels, not tensors of their own).
   */
  private denseOutput(ws: ClassifierWorkspace, b: number, i: number): Tensor {
    const layers = this.plan.blocks[b].layers;
    if (this.fused) {
      if (i !== layers.length - 1) throw new Error("classifier: fused blocks keep only their last output");
      return this.blockFeatures(ws, b);
    }
    const l = layers[i];
    return ws.t(`${l.name}.out`, [ws.n, l.cin + this.config.growthRate, l.size, l.size]);
  }

  /** The fused path's feature buffer of block b: (N, C_in + depth·k, H, W). */
  private blockFeatures(ws: ClassifierWorkspace, b: number): Tensor {
    const last = this.plan.blocks[b].layers.at(-1)!;
    return ws.t(`block${b}.features`, [ws.n, last.cin + this.config.growthRate, last.size, last.size]);
  }

  /** Workspace name of block b's output (after its transition, if any). */
  private blockOutputName(b: number): string {
    const block = this.plan.blocks[b];
    if (block.transition) return `${block.transition.name}.out`;
    return this.fused ? `block${b}.features` : `${block.layers[block.layers.length - 1].name}.out`;
  }

  /** Block b's output tensor (after its transition, if any). */
  private blockOutput(ws: ClassifierWorkspace, b: number): Tensor {
    const block = this.plan.blocks[b];
    if (!block.transition) return this.denseOutput(ws, b, block.layers.length - 1);
    const t = block.transition;
    return ws.t(`${t.name}.out`, [ws.n, t.conv.cout, t.size >> 1, t.size >> 1]);
  }

  // ------------------------------------------------------------ inference

  /**
   * Runs the evaluation-mode forward over `count` images (N, C, H, W) in batches of `batchSize` and reads
   * the logits and/or pooled features back ONCE at the end (each batch's outputs are copied into one GPU
   * tensor). One submit per batch: a batch's upload must land after the previous batch has run.
   */
  async infer(
    images: Float32Array,
    count: number,
    want: { logits?: boolean; features?: boolean } = { logits: true },
    batchSize = 128,
  ): Promise<InferenceResult> {
    const cfg = this.config, per = cfg.inChannels * cfg.size * cfg.size;
    if (!Number.isInteger(count) || count < 0 || images.length < count * per) {
      throw new Error(
        `classifier.infer: ${images.length} values do not hold ${count} images of (${cfg.inChannels}, ${cfg.size}, ${cfg.size})`,
      );
    }
    if (count === 0) {
      return {
        logits: want.logits ? new Float32Array(0) : undefined,
        features: want.features ? new Float32Array(0) : undefined,
      };
    }
    const bs = Math.max(1, Math.min(batchSize, count));
    const ws = this.workspace(bs, false);
    const L = cfg.labels, F = this.featureCount;
    const allLogits = want.logits ? this.gpu.tensor([count, L]) : null;
    const allFeatures = want.features ? this.gpu.tensor([count, F]) : null;
    for (let s = 0; s < count; s += bs) {
      const rows = Math.min(bs, count - s);
      this.gpu.write(ws.x, images.subarray(s * per, (s + rows) * per));
      const rec = this.gpu.recorder();
      this.forward(rec, ws, false);
      if (allLogits) {
        rec.copy(
          new Tensor(ws.logits.buffer, [rows, L], ws.logits.offset),
          new Tensor(allLogits.buffer, [rows, L], allLogits.offset + s * L * 4),
        );
      }
      if (allFeatures) {
        rec.copy(
          new Tensor(ws.features.buffer, [rows, F], ws.features.offset),
          new Tensor(allFeatures.buffer, [rows, F], allFeatures.offset + s * F * 4),
        );
      }
      this.gpu.submit(rec);
    }
    const out: InferenceResult = {};
    if (allLogits) {
      out.logits = await this.gpu.read(allLogits);
      allLogits.dispose();
    }
    if (allFeatures) {
      out.features = await this.gpu.read(allFeatures);
      allFeatures.dispose();
    }
    return out;
  }

  // ------------------------------------------------------------ state

  /** Reads all weights and BN statistics (name → values), e.g. for a checkpoint or a CPU reference. */
  async readState(): Promise<Map<string, Float32Array>> {
    const m = await this.params.readValues(this.gpu);
    for (const [k, v] of await this.stats.readValues(this.gpu)) m.set(k, v);
    return m;
  }

  /** Restores weights and BN statistics from {@linkcode Classifier.readState} (queued before the next submit). */
  writeState(state: Map<string, Float32Array>): void {
    this.params.writeValues(this.gpu, state);
    this.stats.writeValues(this.gpu, state);
  }
}

// ---------------------------------------------------------------- CPU reference

/** Result of {@linkcode classifierForwardRef}. */
export interface ClassifierRefResult {
  /** Logits, (N, L). */
  logits: Float64Array;
  /** Pooled features, (N, F). */
  features: Float64Array;
}

/**
 * CPU reference of {@linkcode Classifier.forward} (float64), built from the layers' `*Ref` functions.
 * `state` maps parameter and statistic names (as {@linkcode Classifier.readState} gives) to values; the
 * running statistics are read in evaluation mode and ignored (not updated) in training mode.
 */
export function classifierForwardRef(
  cfg: ClassifierConfig,
  state: ReadonlyMap<string, Float32Array | Float64Array>,
  x: Float32Array | Float64Array, // (N, C, H, W)
  n: number,
  training: boolean,
): ClassifierRefResult {
  validateClassifierConfig(cfg);
  const get = (name: string): Float32Array | Float64Array => {
    const v = state.get(name);
    if (!v) throw new Error(`classifierForwardRef: state has no "${name}"`);
    return v;
  };
  const bnRelu = (name: string, v: Float32Array | Float64Array, shape: number[]): Float64Array => {
    const { y } = batchNormForwardRef(
      v,
      get(`${name}.gamma`),
      get(`${name}.beta`),
      get(`${name}.running`),
      shape,
      {
        training,
      },
    );
    return biasActForwardRef(y, null, shape, "relu");
  };
  const conv = (
    name: string,
    v: Float32Array | Float64Array,
    cin: number,
    size: number,
    cout: number,
    k: number,
    stride = 1,
  ) =>
    conv2dForwardRef(v, get(`${name}.w`), null, {
      n,
      cin,
      h: size,
      w: size,
      cout,
      k,
      stride,
      pad: (k - 1) / 2,
    });
  const pad = (cfg.stemKernel - 1) / 2;
  const s0 = Math.floor((cfg.size + 2 * pad - cfg.stemKernel) / cfg.stemStride) + 1;
  const xin = cfg.inputNorm ? imageNormForwardRef(x, [n, cfg.inChannels, cfg.size, cfg.size]) : x;
  let f: Float64Array = conv(
    "stem.conv",
    xin,
    cfg.inChannels,
    cfg.size,
    cfg.stemChannels,
    cfg.stemKernel,
    cfg.stemStride,
  );
  let c = cfg.stemChannels, size = s0;
  if (cfg.stemPool) {
    f = avgPool2Ref(bnRelu("stem.bn", f, [n, c, size, size]), [n, c, size, size]);
    size = Math.floor(size / 2);
  }
  const k = cfg.growthRate;
  cfg.blockDepths.forEach((depth, b) => {
    for (let i = 0; i < depth; i++) {
      const name = `block${b}.layer${i}`;
      const r1 = bnRelu(`${name}.bn1`, f, [n, c, size, size]);
      let nw: Float64Array;
      if (cfg.bottleneck > 0) {
        const bw = cfg.bottleneck * k;
        const bt = conv(`${name}.conv1`, r1, c, size, bw, 1);
        nw = conv(`${name}.conv2`, bnRelu(`${name}.bn2`, bt, [n, bw, size, size]), bw, size, k, 3);
      } else {
        nw = conv(`${name}.conv`, r1, c, size, k, 3);
      }
      f = concatForwardRef(f, nw, [n, c, size, size], [n, k, size, size]);
      c += k;
    }
    if (b < cfg.blockDepths.length - 1) {
      const cout = Math.max(1, Math.floor(cfg.compression * c));
      const r = bnRelu(`trans${b}.bn`, f, [n, c, size, size]);
      f = avgPool2Ref(conv(`trans${b}.conv`, r, c, size, cout, 1), [n, cout, size, size]);
      c = cout;
      size = Math.floor(size / 2);
    }
  });
  const features = globalAvgPoolRef(bnRelu("head.bn", f, [n, c, size, size]), [n, c, size, size]);
  const logits = linearForwardRef(features, get("head.fc.w"), get("head.fc.b"), {
    n,
    in: c,
    out: cfg.labels,
  });
  return { logits, features };
}
