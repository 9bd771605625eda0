/**
 * The studio's decoding worker (bundled to studio_worker.js): the picked folder's File objects come in,
 * {@linkcode loadFolderDataset} decodes and resizes them off the page's thread, and the dataset (its
 * image buffer transferred, not copied) or the loader's error message goes back. Progress messages keep
 * the page's counter moving.
 *
 * Messages in: {@linkcode DecodeRequest}; out: {@linkcode DecodeReply}.
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import type { LabelTable } from "../data/labels.ts";
import { loadFolderDataset } from "./folder.ts";

/** What the page sends: the files, their paths inside the folder, and the model's size and channels. */
export interface DecodeRequest {
  files: Blob[];
  paths: string[];
  size: number;
  channels: 1 | 3;
  folder: string;
}

/** What the worker answers (several progress messages, then a result or an error). */
export type DecodeReply =
  | { progress: [number, number] }
  | { result: { dataset: Dataset; csv: string; dropped: LabelTable["dropped"] } }
  | { error: string };

const scope = globalThis as unknown as {
  onmessage: ((ev: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(msg: DecodeReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (ev) => {
  const { files, paths, size, channels, folder } = ev.data;
  try {
    const r = await loadFolderDataset(
      files.map((f, i) => ({ path: paths[i], read: async () => new Uint8Array(await f.arrayBuffer()) })),
      { size, channels, folder, onProgress: (d, t) => scope.postMessage({ progress: [d, t] }) },
    );
    scope.postMessage({ result: r }, [r.dataset.images.buffer]);
  } catch (e) {
    scope.postMessage({ error: (e as Error).message });
  }
};
