/**
 * `deno task train`'s run loop over a {@linkcode RunStore}, for the studio (and any host without a file
 * system): the same GanTrainer, the same checkpoint bytes (src/train/run_state.ts), names and retention,
 * the same metrics.jsonl rows and events, the same fixed-seed sample grid, and the same resume rule (the
 * newest checkpoint that decodes; a broken one is skipped). The loop yields to the host after every step,
 * so a page stays responsive and can pause.
 * @module
 */
import type { Gpu } from "../gpu/gpu.ts";
import type { Dataset } from "../data/dataset.ts";
import type { GanConfig } from "../models/config.ts";
import { encodePng } from "../data/png.ts";
import { describe } from "../data/subset.ts";
import { encodeCheckpoint } from "../train/checkpoint.ts";
import { GanTrainer, type ImageGrid, type LossReport, topCombos } from "../train/gan.ts";
import { generatorCheckpoint, restoreTrainer, trainerCheckpoint } from "../train/run_state.ts";
import {
  appendStoreMetrics,
  newestStoreCheckpoint,
  RUN_FILES,
  type RunStore,
  saveStoreCheckpoint,
} from "./run_store.ts";

/** Seed offset of the fixed sample-grid latents (as src/cli/train.ts). */
const GRID_SEED_XOR = 0x5a4d_9e37;

/** What a session reports while it trains. */
export interface TrainProgress {
  /** Real images shown so far. */
  imagesSeen: number;
  /** The run's length in images. */
  images: number;
  /** Images per second since the last loss readback (or the segment's average). */
  imagesPerSec: number;
  /** Seconds left at that rate. */
  etaSeconds: number;
}

/** Callbacks of {@linkcode TrainSession.run}. */
export interface TrainHooks {
  /** After each loss readback (the row written to metrics.jsonl). */
  onLoss?: (r: LossReport & { time: number; imagesPerSec: number }) => void;
  /** After each step. */
  onProgress?: (p: TrainProgress) => void;
  /** A new sample grid (rows: the most frequent label combinations, described by `rowLabels`). */
  onSamples?: (g: ImageGrid, imagesSeen: number) => void;
  /** A checkpoint was written. */
  onCheckpoint?: (path: string, imagesSeen: number) => void;
  /** Checked before every step: true stops the loop after a checkpoint ("stopped", as Ctrl-C does). */
  shouldStop?: () => boolean;
}

/** Training on one run folder. */
export class TrainSession {
  /** The trainer (restored from the newest checkpoint by {@linkcode TrainSession.open}). */
  readonly tr: GanTrainer;
  /** Where the newest checkpoint came from, when the run was resumed. */
  resumedFrom: string | null = null;
  /** Label combinations of the sample grid's rows ((rows, L) multi-hot). */
  readonly gridCombos: Uint8Array;

  private constructor(readonly store: RunStore, readonly cfg: GanConfig, train: Dataset, gpu: Gpu) {
    this.tr = new GanTrainer(gpu, cfg, train);
    this.gridCombos = topCombos(train, cfg.sampleRows);
  }

  /**
   * A session on `store` (which already holds config.json and data.json); resumes from the newest valid
   * checkpoint as `deno task train --resume` does, writing the same "resume" event.
   */
  static async open(
    gpu: Gpu,
    store: RunStore,
    cfg: GanConfig,
    train: Dataset,
    warn: (msg: string) => void = () => {},
  ): Promise<TrainSession> {
    const s = new TrainSession(store, cfg, train, gpu);
    const found = await newestStoreCheckpoint(store, warn);
    if (found) {
      restoreTrainer(s.tr, found.ck, found.path);
      s.resumedFrom = found.path;
      await appendStoreMetrics(store, {
        event: "resume",
        step: s.tr.step,
        imagesSeen: s.tr.imagesSeen,
        from: found.path,
      });
    }
    return s;
  }

  /** Whether the run has shown all its images. */
  get finished(): boolean {
    return this.tr.imagesSeen >= this.cfg.images;
  }

  /** What each sample-grid row shows ("row 1: epidural + subdural", as samples/rows.txt). */
  get gridRows(): string[] {
    const L = this.tr.data.labelNames.length;
    return Array.from({ length: this.gridCombos.length / L }, (_, r) => {
      const key = Array.from(this.gridCombos.subarray(r * L, (r + 1) * L)).join("");
      return `row ${r + 1}: ${describe(key, this.tr.data.labelNames)}`;
    });
  }

  /**
   * The fixed-seed sample grid of the current EMA generator, also written as
   * samples/samples_<images>.png (and samples/rows.txt), as `deno task train` does.
   */
  async samples(): Promise<ImageGrid> {
    const rows = this.gridCombos.length / this.tr.data.labelNames.length;
    const g = await this.tr.sampleGrid(this.gridCombos, rows, this.cfg.sampleColumns, gridSeed(this.cfg));
    const v01 = Float32Array.from(g.data, (v) => Math.min(1, Math.max(0, (v + 1) / 2)));
    const dir = RUN_FILES.samples;
    await this.store.write(`${dir}/rows.txt`, this.gridRows.join("\n") + "\n");
    await this.store.write(
      `${dir}/samples_${String(this.tr.imagesSeen).padStart(10, "0")}.png`,
      encodePng(v01, g.channels, g.height, g.width),
    );
    return g;
  }

  /** Writes a training checkpoint (kept: the config's keepCheckpoints newest). */
  async checkpoint(): Promise<string> {
    const bytes = encodeCheckpoint(await trainerCheckpoint(this.tr));
    return await saveStoreCheckpoint(this.store, this.tr.imagesSeen, bytes, this.cfg.keepCheckpoints);
  }

  /**
   * Trains until the run's images are shown (then writes the final checkpoint, samples, generator.ckpt
   * with `dataSpec` inside and the "done" event; returns "done") or `shouldStop` says so (a checkpoint and
   * the "stopped" event; returns "stopped").
   */
  async run(hooks: TrainHooks = {}, dataSpec: Record<string, unknown> = {}): Promise<"done" | "stopped"> {
    const tr = this.tr, cfg = this.cfg;
    const t0 = performance.now(), startImages = tr.imagesSeen;
    let lastT = t0, lastImages = tr.imagesSeen, rate = NaN;
    let stopped = false;
    while (tr.imagesSeen < cfg.images) {
      if (hooks.shouldStop?.()) {
        stopped = true;
        break;
      }
      const before = tr.imagesSeen;
      tr.trainStep();
      if (tr.logDue) {
        const r = await tr.readLosses();
        const now = performance.now();
        rate = (tr.imagesSeen - lastImages) / ((now - lastT) / 1000);
        lastT = now;
        lastImages = tr.imagesSeen;
        const row = { ...r, time: (now - t0) / 1000, imagesPerSec: rate };
        await appendStoreMetrics(this.store, row);
        hooks.onLoss?.(row);
      } else {
        await new Promise((res) => setTimeout(res, 0));
      }
      const crossed = (every: number) =>
        every > 0 && Math.floor(tr.imagesSeen / every) > Math.floor(before / every);
      if (crossed(cfg.checkpointEvery)) {
        const path = await this.checkpoint();
        hooks.onCheckpoint?.(path, tr.imagesSeen);
      }
      if (crossed(cfg.sampleEvery)) {
        const grid = await this.samples();
        hooks.onSamples?.(grid, tr.imagesSeen);
      }
      const avg = (tr.imagesSeen - startImages) / ((performance.now() - t0) / 1000);
      const r = Number.isFinite(rate) ? rate : avg;
      hooks.onProgress?.({
        imagesSeen: tr.imagesSeen,
        images: cfg.images,
        imagesPerSec: r,
        etaSeconds: Math.max(0, cfg.images - tr.imagesSeen) / r,
      });
    }
    const ck = await this.checkpoint();
    hooks.onCheckpoint?.(ck, tr.imagesSeen);
    if (stopped) {
      await appendStoreMetrics(this.store, {
        event: "stopped",
        signal: "pause",
        step: tr.step,
        imagesSeen: tr.imagesSeen,
      });
      return "stopped";
    }
    const grid = await this.samples();
    hooks.onSamples?.(grid, tr.imagesSeen);
    const gen = encodeCheckpoint(await generatorCheckpoint(tr, { data: dataSpec }));
    await this.store.write(RUN_FILES.generator, gen);
    const secs = (performance.now() - t0) / 1000;
    await appendStoreMetrics(this.store, {
      event: "done",
      step: tr.step,
      imagesSeen: tr.imagesSeen,
      time: secs,
      imagesPerSec: (tr.imagesSeen - startImages) / secs,
    });
    return "done";
  }
}

/** The sample grid's latent seed for a config (as `deno task train`). */
export function gridSeed(cfg: GanConfig): number {
  return (cfg.seed ^ GRID_SEED_XOR) >>> 0;
}
