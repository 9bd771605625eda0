/**
 * The real-trained reference classifier as bytes: trained once per (data, split, classifier settings, seed)
 * and reused by every consumer of that key — the GAN trainer's label-fidelity probe and the evaluation's
 * train-on-real arm (TRTR), so the two measure against the same model and the evaluation skips a training.
 * The file is an ordinary checkpoint (src/train/checkpoint.ts): weights and BN statistics as arrays, the
 * classifier config, the training summary and the key as metadata. Browser-safe.
 * @module
 */

import type { Gpu } from "../gpu/gpu.ts";
import { Classifier, type ClassifierConfig } from "../models/classifier.ts";
import { CheckpointError, decodeCheckpoint, encodeCheckpoint } from "./checkpoint.ts";
import type { TrainedClassifier } from "./classifier.ts";

const KIND = "medsynth-reference-classifier";

/** Encodes a trained classifier with the key it was trained for (waits for the GPU). */
export async function encodeReference(run: TrainedClassifier, key: string): Promise<Uint8Array> {
  const arrays = await run.model.readState();
  arrays.set("__posWeight", run.posWeight);
  arrays.set("__negWeight", run.negWeight);
  const { model: _m, posWeight: _p, negWeight: _n, ...summary } = run;
  return encodeCheckpoint({ meta: { kind: KIND, key, summary }, arrays });
}

/**
 * Decodes a reference classifier onto `gpu`; null when the file was made for another key (other data,
 * split, settings or seed), so the caller trains a new one. Throws {@linkcode CheckpointError} (naming
 * `source`) for a file that is not a reference classifier.
 */
export function decodeReference(
  gpu: Gpu,
  bytes: Uint8Array,
  key: string,
  source: string,
): TrainedClassifier | null {
  const ck = decodeCheckpoint(bytes, source);
  if (ck.meta.kind !== KIND) throw new CheckpointError(source, "not a reference classifier");
  if (ck.meta.key !== key) return null;
  const summary = ck.meta.summary as Omit<TrainedClassifier, "model" | "posWeight" | "negWeight">;
  // inputNorm arrived after the first cached classifiers: those did not standardise their input
  const stored = summary.config as ClassifierConfig;
  const config: ClassifierConfig = { ...stored, inputNorm: stored.inputNorm ?? false };
  const posWeight = ck.arrays.get("__posWeight"), negWeight = ck.arrays.get("__negWeight");
  if (!posWeight || !negWeight) throw new CheckpointError(source, "class weights missing");
  ck.arrays.delete("__posWeight");
  ck.arrays.delete("__negWeight");
  const model = new Classifier(gpu, config);
  model.writeState(ck.arrays);
  return { ...summary, config, model, posWeight, negWeight };
}
