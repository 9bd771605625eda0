/**
 * CT intensity windows: Hounsfield units → [0, 1] by a centre/width window, as radiologists view CT.
 * The RSNA intracranial-hemorrhage practice stacks brain, subdural and bone windows as three channels.
 * @module
 */

/** A display window in Hounsfield units. */
export interface CtWindow {
  /** Window centre (level), HU. */
  center: number;
  /** Window width, HU (> 0). */
  width: number;
}

/** Named windows used for head CT. */
export const WINDOWS: Readonly<Record<"brain" | "subdural" | "bone", CtWindow>> = {
  brain: { center: 40, width: 80 },
  subdural: { center: 80, width: 200 },
  bone: { center: 600, width: 2800 },
};

/** Maps HU values through a window to [0, 1] (linear, clipped). Writes into `out` if given. */
export function applyWindow(hu: ArrayLike<number>, w: CtWindow, out?: Float32Array): Float32Array {
  if (!(w.width > 0)) throw new Error(`window width must be > 0, got ${w.width}`);
  const res = out ?? new Float32Array(hu.length);
  const lo = w.center - w.width / 2;
  for (let i = 0; i < hu.length; i++) {
    const v = (hu[i] - lo) / w.width;
    res[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return res;
}

/** Windows a slice into C channels (one per window), (C, H*W) row-major in [0, 1]. */
export function applyWindows(hu: ArrayLike<number>, windows: readonly CtWindow[]): Float32Array {
  const n = hu.length;
  const out = new Float32Array(n * windows.length);
  windows.forEach((w, c) => applyWindow(hu, w, out.subarray(c * n, (c + 1) * n)));
  return out;
}
