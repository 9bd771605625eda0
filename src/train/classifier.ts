/**
 * Training protocol of the evaluation classifier, as in the reference study: class-weighted multi-label
 * binary cross-entropy, horizontal-flip augmentation, Adam, the mean validation AUROC evaluated after every
 * epoch, learning-rate decay when it plateaus, early stopping, and the best epoch's weights kept. Seeded:
 * the same data, config and seed give the same model.
 *
 * Augmentation is done on the CPU while the batch is gathered (a mirrored copy of the rows costs nothing
 * next to a training step, and the batch is assembled on the CPU anyway), so no flip kernel is needed.
 * A horizontal flip keeps every label here: the findings (hemorrhage types, chest findings) are not
 * lateralised in the label set.
 *
 * Each step is recorded and submitted once, with nothing read back; the loss is summed on the GPU and read
 * once per epoch, the validation logits once per evaluation.
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import type { Tensor } from "../gpu/tensor.ts";
import type { Dataset } from "../data/dataset.ts";
import { aurocPerLabel, meanAuroc } from "../metrics/auroc.ts";
import {
  Classifier,
  type ClassifierArchitecture,
  type ClassifierConfig,
  classifierConfig,
  type ClassifierPreset,
  type ClassifierWorkspace,
} from "../models/classifier.ts";
import { Adam } from "../nn/adam.ts";
import type { ConvVariant } from "../nn/conv2d.ts";
import { bceWithLogits } from "../nn/losses.ts";
import { Rng } from "../util/rng.ts";

/** Settings of {@linkcode trainClassifier}. */
export interface ClassifierTrainConfig {
  /** Architecture: a preset name or an explicit architecture (default "tiny"). */
  model: ClassifierPreset | ClassifierArchitecture;
  /** Fields of the architecture to override (e.g. a wider growth rate). */
  modelOverrides: Partial<ClassifierArchitecture>;
  /** Images per training step (BN statistics are per batch; the last incomplete batch of an epoch is dropped). */
  batchSize: number;
  /** Initial Adam learning rate. */
  lr: number;
  /** Decoupled weight decay (AdamW), 0 for none. */
  weightDecay: number;
  /** Upper bound on the number of epochs. */
  maxEpochs: number;
  /** Cap on steps per epoch (0: a full pass over the training set); evaluation follows every epoch. */
  stepsPerEpoch: number;
  /** Epochs without a new best mean validation AUROC after which the learning rate is multiplied by lrFactor. */
  lrPatience: number;
  /** Factor of the learning-rate decay on plateau. */
  lrFactor: number;
  /** The learning rate does not decay below this. */
  minLr: number;
  /** Epochs without a new best mean validation AUROC after which training stops (early stopping). */
  earlyStopPatience: number;
  /** An epoch counts as better when its mean validation AUROC exceeds the best by more than this. */
  minDelta: number;
  /** Mirror each training image horizontally with probability 1/2. */
  flip: boolean;
  /** Images per evaluation-mode forward batch (validation, prediction). */
  evalBatchSize: number;
  /**
   * Time limit in seconds (0: none). Checked every {@linkcode TIME_CHECK_STEPS} steps (waiting for the GPU
   * there, as steps are queued without waiting): once reached, the running epoch ends early, is evaluated
   * like any other, and training stops. So a run overshoots the limit by at most a few steps and one
   * validation pass, not by a whole epoch.
   */
  maxSeconds: number;
  /**
   * Training-image budget (0: none): once this many images have been trained on, the running epoch ends
   * early, is evaluated like any other, and training stops. Unlike `maxSeconds` it does not depend on the
   * machine's speed or load, so runs side by side stay comparable.
   */
  maxImages: number;
  /** Convolution kernels ("auto" fast, "naive" for debugging). */
  convVariant: ConvVariant;
}

/** Defaults: the tiny preset, batch 32, Adam 3e-3, up to 30 epochs, decay ×0.3 after 2 flat epochs, stop after 5. */
export const DEFAULT_CLASSIFIER_TRAIN: Readonly<ClassifierTrainConfig> = {
  model: "tiny",
  modelOverrides: {},
  batchSize: 32,
  lr: 3e-3,
  weightDecay: 0,
  maxEpochs: 30,
  stepsPerEpoch: 0,
  lrPatience: 2,
  lrFactor: 0.3,
  minLr: 1e-5,
  earlyStopPatience: 5,
  minDelta: 1e-4,
  flip: true,
  evalBatchSize: 128,
  maxSeconds: 0,
  maxImages: 0,
  convVariant: "auto",
};

/**
 * Steps between time-limit checks of a run with `maxSeconds` (each check waits for the GPU, ~11 ms on
 * Deno; a step of the `tiny` classifier takes ~0.3-0.5 s on llvmpipe).
 */
export const TIME_CHECK_STEPS = 4;

/** One epoch of a training run. */
export interface ClassifierEpoch {
  /** 1-based epoch number. */
  epoch: number;
  /** Steps done so far in the run. */
  steps: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Validation AUROC per label (null: undefined, a class absent in the validation set). */
  validPerLabel: (number | null)[];
  /** Mean over the defined labels (NaN when none is). */
  validMean: number;
  /** Learning rate used during the epoch. */
  lr: number;
  /** Whether this epoch is the best so far (its weights are kept). */
  best: boolean;
  /** Seconds since the start of training. */
  seconds: number;
  /** Training images per second over the epoch (steps only; a time-limited last epoch may be partial). */
  imagesPerSecond: number;
}

/** Why training ended. */
export type StopReason = "early_stop" | "max_epochs" | "time" | "images";

/** Result of {@linkcode trainClassifier}. */
export interface TrainedClassifier {
  /** The classifier, holding the best epoch's weights and BN statistics. */
  model: Classifier;
  /** The full config it was built with. */
  config: ClassifierConfig;
  /** Epoch whose weights were kept (the last one when no epoch had a defined validation AUROC). */
  bestEpoch: number;
  /** Its mean validation AUROC. */
  bestValidMean: number;
  /** Its per-label validation AUROC. */
  bestValidPerLabel: (number | null)[];
  /** Every epoch. */
  history: ClassifierEpoch[];
  /** Why it stopped. */
  stoppedBy: StopReason;
  /** Training steps done. */
  steps: number;
  /** Wall-clock seconds of the whole run (evaluations included). */
  seconds: number;
  /** BCE weight of positives per label (from the training label frequencies). */
  posWeight: Float32Array;
  /** BCE weight of negatives per label. */
  negWeight: Float32Array;
}

/** Options of {@linkcode trainClassifier}. */
export interface TrainClassifierOptions {
  /** Settings (defaults: {@linkcode DEFAULT_CLASSIFIER_TRAIN}). */
  config?: Partial<ClassifierTrainConfig>;
  /** Seed of the initialisation, the batch order and the flips (default 0). */
  seed?: number;
  /** Called after every epoch's evaluation. */
  onProgress?: (e: ClassifierEpoch) => void;
}

/**
 * Balanced class weights from training label frequencies: with P positives of N,
 * wPos = N / (2P) and wNeg = N / (2(N - P)), so both classes weigh the same in total and a constant
 * predictor's loss is scale-free; (1, 1) when a label has only one class.
 */
export function classWeights(
  labels: Uint8Array,
  n: number,
  l: number,
): { pos: Float32Array; neg: Float32Array } {
  const pos = new Float32Array(l).fill(1), neg = new Float32Array(l).fill(1);
  for (let j = 0; j < l; j++) {
    let p = 0;
    for (let i = 0; i < n; i++) p += labels[i * l + j];
    if (p > 0 && p < n) {
      pos[j] = n / (2 * p);
      neg[j] = n / (2 * (n - p));
    }
  }
  return { pos, neg };
}

/** Throws unless the dataset's images and labels fit the classifier config. */
export function checkDatasetFits(d: Dataset, cfg: ClassifierConfig, what: string): void {
  if (d.channels !== cfg.inChannels || d.height !== cfg.size || d.width !== cfg.size) {
    throw new Error(
      `${what}: images are (${d.channels}, ${d.height}, ${d.width}) but the classifier expects ` +
        `(${cfg.inChannels}, ${cfg.size}, ${cfg.size}); resize the data or build the classifier for it`,
    );
  }
  if (d.labelNames.length !== cfg.labels) {
    throw new Error(`${what}: ${d.labelNames.length} labels but the classifier has ${cfg.labels} outputs`);
  }
  if (d.images.length !== d.n * d.channels * d.height * d.width || d.labels.length !== d.n * cfg.labels) {
    throw new Error(`${what}: images/labels arrays do not match n = ${d.n}`);
  }
}

/**
 * One training step at a time on a fixed batch size: forward (training mode), class-weighted BCE,
 * backward, Adam; one submit, nothing read. After the first step, steps allocate no GPU buffers or
 * pipelines.
 */
export class ClassifierStepper {
  /** The optimiser (its `lr` may be changed between steps). */
  readonly adam: Adam;
  /** The training workspace. */
  readonly ws: ClassifierWorkspace;
  private readonly targets: Tensor;
  private readonly pos: Tensor;
  private readonly neg: Tensor;
  private readonly lossLog: Tensor;
  private stepsSinceRead = 0;

  /** Builds the optimiser and the step's tensors for `batchSize` images a step. */
  constructor(
    readonly model: Classifier,
    readonly batchSize: number,
    opts: { lr: number; weightDecay?: number; posWeight: Float32Array; negWeight: Float32Array },
  ) {
    const gpu = model.gpu, L = model.config.labels;
    this.ws = model.workspace(batchSize, true);
    this.targets = gpu.tensor([batchSize, L]);
    this.pos = gpu.tensor([L], opts.posWeight);
    this.neg = gpu.tensor([L], opts.negWeight);
    this.lossLog = gpu.tensor([1], [0]);
    this.adam = new Adam(gpu, model.params, {
      lr: opts.lr,
      weightDecay: opts.weightDecay ?? 0,
      zeroGrads: true, // Adam clears the gradients it read: the next backward accumulates from zero
    });
  }

  /** Uploads a batch, images (B, C, H, W) and targets (B, L) in [0, 1], and records + submits one step. */
  step(images: Float32Array, targets: Float32Array): void {
    const gpu = this.model.gpu;
    gpu.write(this.ws.x, images);
    gpu.write(this.targets, targets);
    const rec = gpu.recorder();
    this.model.forward(rec, this.ws, true);
    bceWithLogits(rec, this.ws.logits, this.targets, this.pos, this.neg, this.ws.dlogits, this.lossLog, {
      accumulate: this.stepsSinceRead > 0,
    });
    this.model.backward(rec, this.ws);
    this.adam.step(rec);
    gpu.submit(rec);
    this.stepsSinceRead++;
  }

  /** Returns the step's own tensors to the pool (the model's workspaces stay). */
  dispose(): void {
    for (const t of [this.targets, this.pos, this.neg, this.lossLog]) t.dispose();
  }

  /** Mean loss of the steps since the last read (waits for them; NaN when there were none). */
  async readLoss(): Promise<number> {
    const n = this.stepsSinceRead;
    if (n === 0) return NaN;
    const v = (await this.model.gpu.read(this.lossLog))[0];
    this.stepsSinceRead = 0;
    return v / n;
  }
}

/** Sigmoid probabilities (N, L) of the classifier for a dataset's images (one readback). */
export async function predictProbabilities(
  model: Classifier,
  d: Dataset,
  batchSize = 128,
): Promise<Float32Array> {
  checkDatasetFits(d, model.config, "predictProbabilities");
  const { logits } = await model.infer(d.images, d.n, { logits: true }, batchSize);
  const p = logits!;
  for (let i = 0; i < p.length; i++) {
    const z = p[i], e = Math.exp(-Math.abs(z));
    p[i] = z >= 0 ? 1 / (1 + e) : e / (1 + e);
  }
  return p;
}

/** Per-label AUROC (null when undefined) and their mean, of (N, L) scores against a dataset's labels. */
export function scoreAuroc(scores: Float32Array, d: Dataset): { perLabel: (number | null)[]; mean: number } {
  const L = d.labelNames.length;
  const perLabel = aurocPerLabel({ data: scores, rows: d.n, cols: L }, {
    data: d.labels,
    rows: d.n,
    cols: L,
  });
  return { perLabel, mean: meanAuroc(perLabel) };
}

/**
 * Copies rows `idx` of a dataset into a batch (images (B, C, H, W), targets (B, L)), mirroring each image
 * horizontally with probability `pFlip` (one draw from `rng` per image, whatever pFlip).
 */
export function gatherBatch(
  d: Dataset,
  idx: ArrayLike<number>,
  images: Float32Array,
  targets: Float32Array,
  rng: Rng,
  pFlip: number,
): void {
  const W = d.width, rows = d.channels * d.height, per = rows * W, L = d.labelNames.length;
  for (let b = 0; b < idx.length; b++) {
    const i = idx[b];
    const src = d.images.subarray(i * per, (i + 1) * per), dst = images.subarray(b * per, (b + 1) * per);
    // one draw per image whatever pFlip, so the flip setting does not shift the random stream
    if (rng.next() < pFlip) {
      for (let r = 0; r < rows; r++) {
        for (let x = 0; x < W; x++) dst[r * W + x] = src[r * W + W - 1 - x];
      }
    } else {
      dst.set(src);
    }
    for (let j = 0; j < L; j++) targets[b * L + j] = d.labels[i * L + j];
  }
}

/**
 * Trains a classifier on `train`, evaluating the mean validation AUROC on `valid` after every epoch:
 * the learning rate decays on plateaus, training stops early when it no longer improves, and the
 * returned model holds the best epoch's weights (and BN statistics).
 */
export async function trainClassifier(
  gpu: Gpu,
  train: Dataset,
  valid: Dataset,
  opts: TrainClassifierOptions = {},
): Promise<TrainedClassifier> {
  const tc: ClassifierTrainConfig = { ...DEFAULT_CLASSIFIER_TRAIN, ...opts.config };
  const seed = opts.seed ?? 0;
  const L = train.labelNames.length;
  const cfg = classifierConfig(
    tc.model,
    { inChannels: train.channels, size: train.height, labels: L },
    tc.modelOverrides,
  );
  checkDatasetFits(train, cfg, "trainClassifier: train");
  checkDatasetFits(valid, cfg, "trainClassifier: valid");
  if (train.n < 2) {
    throw new Error(`trainClassifier: the training set has ${train.n} images; need at least 2`);
  }
  if (!(tc.maxEpochs >= 1)) throw new Error(`trainClassifier: maxEpochs must be >= 1, got ${tc.maxEpochs}`);
  const start = performance.now();
  const model = new Classifier(gpu, cfg, { seed, convVariant: tc.convVariant });
  const bs = Math.max(2, Math.min(tc.batchSize, train.n));
  const { pos, neg } = classWeights(train.labels, train.n, L);
  const stepper = new ClassifierStepper(model, bs, {
    lr: tc.lr,
    weightDecay: tc.weightDecay,
    posWeight: pos,
    negWeight: neg,
  });
  const bestParams = model.params.arena(gpu, "best"), bestStats = model.stats.arena(gpu, "best");
  const rng = new Rng((seed ^ 0x2545f491) >>> 0);
  const per = train.channels * train.height * train.width;
  const xb = new Float32Array(bs * per), yb = new Float32Array(bs * L);
  const order = Int32Array.from({ length: train.n }, (_, i) => i);
  const fullSteps = Math.floor(train.n / bs);
  const stepsPerEpoch = tc.stepsPerEpoch > 0 ? Math.min(tc.stepsPerEpoch, fullSteps) : fullSteps;

  const history: ClassifierEpoch[] = [];
  let best = -Infinity, bestEpoch = 0, bestPer: (number | null)[] = [];
  let sinceBest = 0, sinceDecay = 0, steps = 0, cursor = train.n;
  let stoppedBy: StopReason = "max_epochs";
  let outOfTime = false;
  for (let epoch = 1; epoch <= tc.maxEpochs; epoch++) {
    const t0 = performance.now();
    let epochSteps = 0;
    for (let s = 0; s < stepsPerEpoch; s++) {
      if (tc.maxSeconds > 0 && s > 0 && s % TIME_CHECK_STEPS === 0) {
        await gpu.sync(); // steps are queued without waiting: the clock means something only after a sync
        if ((performance.now() - start) / 1000 >= tc.maxSeconds) {
          outOfTime = true;
          break;
        }
      }
      if (tc.maxImages > 0 && steps * bs >= tc.maxImages) break;
      if (cursor + bs > train.n) {
        rng.shuffle(order);
        cursor = 0;
      }
      gatherBatch(train, order.subarray(cursor, cursor + bs), xb, yb, rng, tc.flip ? 0.5 : 0);
      cursor += bs;
      stepper.step(xb, yb);
      steps++;
      epochSteps++;
    }
    const loss = await stepper.readLoss(); // waits for the epoch's steps
    const stepSeconds = (performance.now() - t0) / 1000;
    const { logits } = await model.infer(valid.images, valid.n, { logits: true }, tc.evalBatchSize);
    const { perLabel, mean } = scoreAuroc(logits!, valid);
    const improved = mean > best + tc.minDelta;
    const lr = stepper.adam.lr;
    if (improved) {
      best = mean;
      bestEpoch = epoch;
      bestPer = perLabel;
      sinceBest = 0;
      sinceDecay = 0;
      gpu.run((rec) => {
        rec.copy(model.params.values, bestParams);
        rec.copy(model.stats.values, bestStats);
      });
    } else {
      sinceBest++;
      sinceDecay++;
      if (sinceDecay >= tc.lrPatience && stepper.adam.lr > tc.minLr) {
        stepper.adam.lr = Math.max(tc.minLr, stepper.adam.lr * tc.lrFactor);
        sinceDecay = 0;
      }
    }
    const seconds = (performance.now() - start) / 1000;
    const e: ClassifierEpoch = {
      epoch,
      steps,
      loss,
      validPerLabel: perLabel,
      validMean: mean,
      lr,
      best: improved,
      seconds,
      imagesPerSecond: epochSteps * bs / stepSeconds,
    };
    history.push(e);
    opts.onProgress?.(e);
    if (sinceBest >= tc.earlyStopPatience) {
      stoppedBy = "early_stop";
      break;
    }
    if (tc.maxSeconds > 0 && (outOfTime || seconds >= tc.maxSeconds) && epoch < tc.maxEpochs) {
      stoppedBy = "time";
      break;
    }
    if (tc.maxImages > 0 && steps * bs >= tc.maxImages && epoch < tc.maxEpochs) {
      stoppedBy = "images";
      break;
    }
  }
  if (bestEpoch > 0) {
    gpu.run((rec) => {
      rec.copy(bestParams, model.params.values);
      rec.copy(bestStats, model.stats.values);
    });
  } else {
    bestEpoch = history.length;
    best = NaN;
    bestPer = history[history.length - 1].validPerLabel;
  }
  await gpu.sync();
  // free what only training needed: the best-weights arenas, Adam's moments, the step tensors
  for (const t of [bestParams, bestStats, stepper.adam.m, stepper.adam.v]) t.buffer.destroy();
  stepper.dispose();
  model.disposeWorkspaces();
  return {
    model,
    config: cfg,
    bestEpoch,
    bestValidMean: best,
    bestValidPerLabel: bestPer,
    history,
    stoppedBy,
    steps,
    seconds: (performance.now() - start) / 1000,
    posWeight: pos,
    negWeight: neg,
  };
}
