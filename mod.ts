/**
 * medsynth: train label-conditional GANs on medical images with hand-written WGSL compute
 * shaders on any WebGPU device (Deno or a browser), export synthetic datasets, and measure how
 * useful and how private they are (after Schütte et al., npj Digital Medicine 2021).
 *
 * The GPU engine runs in Deno and browsers alike:
 *
 * ```ts
 * import { biasActForward, Gpu } from "@medsynth/medsynth";
 *
 * const gpu = await Gpu.create(); // throws NoWebGpuError with advice when there is no adapter
 * const x = gpu.tensor([1, 2, 1, 2], [-1, 2, -3, 4]); // (N, C, H, W)
 * const b = gpu.tensor([2], [0.5, -0.5]);
 * const y = gpu.tensor([1, 2, 1, 2]);
 * gpu.run((rec) => biasActForward(rec, x, b, y, "relu"));
 * const out = await gpu.read(y);
 * if (out.join() !== "0,2.5,0,3.5") throw new Error(`unexpected ${out}`);
 * ```
 *
 * Metrics are plain TypeScript:
 *
 * ```ts
 * import { auroc } from "@medsynth/medsynth";
 * if (auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) !== 0.75) throw new Error("auroc");
 * ```
 * @module
 */

// GPU runtime
export { type AdapterReport, type DeviceOptions, NoWebGpuError, requestDevice } from "./src/gpu/device.ts";
export { type Binding, Gpu, Recorder } from "./src/gpu/gpu.ts";
export { ceilDiv, grid1d, type Kernel, kernelKey } from "./src/gpu/kernel.ts";
export { Param, ParamStore } from "./src/gpu/params.ts";
export { numel, Tensor } from "./src/gpu/tensor.ts";
export { WGSL } from "./src/gpu/_shaders.generated.ts";
export { Rng } from "./src/util/rng.ts";

// Layers (forward, backward, CPU references)
export * from "./src/nn/activation.ts";
export * from "./src/nn/conv2d.ts";
export {
  convT2dBackwardInput,
  convT2dBackwardRef,
  convT2dBackwardWeight,
  convT2dForward,
  convT2dForwardRef,
  convT2dOutputSize,
  type ConvT2dShape,
} from "./src/nn/conv_transpose2d.ts";
export * from "./src/nn/linear.ts";
export { matmul, matmulBias, matmulRef, type MatmulShape, type MatmulVariant } from "./src/nn/matmul.ts";
export * from "./src/nn/pool.ts";
export * from "./src/nn/adam.ts";
export * from "./src/nn/augment.ts";
export * from "./src/nn/blend.ts";
export * from "./src/nn/global_pool.ts";
export * from "./src/nn/batch_norm.ts";
export * from "./src/nn/concat.ts";
export * from "./src/nn/cond_norm.ts";
export * from "./src/nn/ema.ts";
export * from "./src/nn/losses.ts";
export * from "./src/nn/feat_match.ts";
export * from "./src/nn/minibatch_std.ts";
export * from "./src/nn/pixel_norm.ts";
export * from "./src/nn/spectral_norm.ts";

// Data: decoding, labels, splits, subsets, export (bytes in, arrays out)
export * from "./src/data/dataset.ts";
export * from "./src/data/dicom.ts";
export * from "./src/data/window.ts";
export * from "./src/data/resize.ts";
export * from "./src/data/png.ts";
export * from "./src/data/jpeg.ts";
export * from "./src/data/labels.ts";
export * from "./src/data/split.ts";
export * from "./src/data/subset.ts";
export * from "./src/data/cache.ts";
export * from "./src/data/export.ts";
export * from "./src/data/phantom.ts";
export * from "./src/data/dicom_write.ts";

// Models, training, evaluation, report
export * from "./src/models/config.ts";
export * from "./src/models/classifier.ts";
export * from "./src/train/checkpoint.ts";
export * from "./src/train/gan.ts";
export * from "./src/train/sampler.ts";
export * from "./src/train/classifier.ts";
export * from "./src/train/utility.ts";
export * from "./src/train/reference.ts";
export * from "./src/eval/fidelity.ts";
export * from "./src/eval/privacy.ts";
export * from "./src/eval/label_fidelity.ts";
export * from "./src/eval/evaluate.ts";
export * from "./src/report/results.ts";
export * from "./src/report/html.ts";
export * from "./src/report/sweep_html.ts";
export * from "./src/reader/analysis.ts";

// Metrics
export { auroc, aurocPerLabel, meanAuroc, rocCurve, weightedAuroc } from "./src/metrics/auroc.ts";
export type { RocCurve } from "./src/metrics/auroc.ts";
export { featureStats, frechetDistance, frechetFromStats, matrixFromRows } from "./src/metrics/frechet.ts";
export type { FeatureStats, Matrix } from "./src/metrics/frechet.ts";
export { kid, mmd2Polynomial } from "./src/metrics/kid.ts";
export type { KidOptions, KidResult } from "./src/metrics/kid.ts";
export { prdc } from "./src/metrics/prdc.ts";
export type { Prdc } from "./src/metrics/prdc.ts";
export {
  distanceToClosestRecord,
  membershipInferenceAuc,
  memorisationRate,
  nearestNeighbours,
} from "./src/metrics/privacy.ts";
export type {
  DistanceMetric,
  DistanceToClosestRecord,
  MembershipInference,
  MemorisationRate,
  NearestNeighbours,
} from "./src/metrics/privacy.ts";
export { bootstrapAurocGap } from "./src/metrics/bootstrap.ts";
export type { AurocGap, AurocGapInput } from "./src/metrics/bootstrap.ts";
export {
  binomialPmf,
  binomialTest,
  fleissKappa,
  normalQuantile,
  percentile,
  ratingsToTable,
  sensitivitySpecificity,
  wilsonInterval,
} from "./src/metrics/stats.ts";
export type { ProportionInterval, SensSpec } from "./src/metrics/stats.ts";
