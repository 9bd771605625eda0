/**
 * Checkpoint files: a JSON header plus named float32 arrays, as bytes (browser-safe; the CLI
 * writes them atomically). Layout: the 8 bytes "MSCKPT1\n", a u32 little-endian header length,
 * the UTF-8 JSON header `{meta, arrays: [{name, offset, length}]}` padded to 4 bytes, then the
 * arrays' float32 little-endian values at their offsets (in floats, from the data start).
 * @module
 */

const MAGIC = "MSCKPT1\n";

/** A decoded checkpoint: free-form JSON metadata and named arrays. */
export interface Checkpoint {
  /** JSON-serialisable metadata (config, step, optimiser scalars, RNG state, ...). */
  meta: Record<string, unknown>;
  /** Named float32 arrays (parameters, optimiser moments, EMA weights, ...). */
  arrays: Map<string, Float32Array>;
}

/** Thrown for a file that is not a checkpoint or is truncated/corrupt; names the source. */
export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`checkpoint ${source}: ${problem}. Delete it to start over, or resume from an older checkpoint.`);
    this.name = "CheckpointError";
  }
}

/** Encodes a checkpoint to bytes. */
export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const entries: { name: string; offset: number; length: number }[] = [];
  let floats = 0;
  for (const [name, a] of ck.arrays) {
    entries.push({ name, offset: floats, length: a.length });
    floats += a.length;
  }
  let header = new TextEncoder().encode(JSON.stringify({ meta: ck.meta, arrays: entries }));
  const padded = Math.ceil(header.length / 4) * 4;
  if (padded !== header.length) {
    const h = new Uint8Array(padded).fill(0x20); // trailing spaces keep it valid JSON
    h.set(header);
    header = h;
  }
  const out = new Uint8Array(8 + 4 + header.length + floats * 4);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(8, header.length, true);
  out.set(header, 12);
  const data = new Float32Array(out.buffer, 12 + header.length, floats);
  for (const e of entries) data.set(ck.arrays.get(e.name)!, e.offset);
  return out;
}

/** Decodes checkpoint bytes; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source = "(bytes)"): Checkpoint {
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new CheckpointError(source, "not a medsynth checkpoint (bad magic)");
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = dv.getUint32(8, true);
  if (12 + hlen > bytes.length) throw new CheckpointError(source, "truncated header");
  let header: { meta: Record<string, unknown>; arrays: { name: string; offset: number; length: number }[] };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + hlen)));
  } catch {
    throw new CheckpointError(source, "corrupt header");
  }
  const start = bytes.byteOffset + 12 + hlen;
  const floats = (bytes.length - 12 - hlen) / 4;
  const need = header.arrays.reduce((m, e) => Math.max(m, e.offset + e.length), 0);
  if (!Number.isInteger(floats) || floats < need) {
    throw new CheckpointError(source, `truncated data (${floats} of ${need} values)`);
  }
  // Copy so the arrays don't depend on the alignment of the caller's buffer.
  const data = new Float32Array(bytes.buffer.slice(start, start + need * 4));
  const arrays = new Map<string, Float32Array>();
  for (const e of header.arrays) arrays.set(e.name, data.subarray(e.offset, e.offset + e.length));
  return { meta: header.meta, arrays };
}
