/**
 * The one error type of the PNG/JPEG readers (own file so png.ts and jpeg.ts share it without a cycle),
 * and the translation of what third-party decoders throw into a sentence a user can act on.
 * @module
 */

/** A PNG or JPEG that cannot be read: the message names the file, what is wrong and what to do. */
export class ImageError extends Error {
  /** The file name passed to the decoder (or "PNG"/"JPEG"/"image" when none was given). */
  readonly file: string;
  /** Creates the error; `message` is prefixed with the file name. */
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super(`${file}: ${message}`, options);
    this.name = "ImageError";
    this.file = file;
  }
}

/**
 * Says in words what a decoder's exception means. fast-png and jpeg-js surface JavaScript internals
 * ("Offset is outside the bounds of the DataView", "Cannot read properties of undefined") or terse codec
 * jargon; the original text stays at the end for bug reports.
 */
export function explainDecoderError(format: "PNG" | "JPEG", e: unknown): string {
  const raw = e instanceof Error ? e.message : String(e);
  const again = "copy or export the file again";
  let what: string;
  if (
    e instanceof RangeError ||
    /out(side)? of (the )?(bounds|range)|beyond|end of (data|input|buffer)/i.test(raw)
  ) {
    what = `the ${format} data ends early or a length field in it is corrupt (truncated or damaged file)`;
  } else if (/crc/i.test(raw)) {
    what = `a ${format} chunk fails its checksum (CRC), so the file was damaged`;
  } else if (
    /inflate|zlib|deflate|decompress|huffman|distance|invalid (block|code|stored)|unexpected EOF/i.test(raw)
  ) {
    what = `the compressed ${format} image data is corrupt`;
  } else if (/memory|too large|maxMemory|exceed/i.test(raw)) {
    what = `the ${format} header declares an image too large to decode`;
  } else if (e instanceof TypeError) {
    what = `the ${format} structure is corrupt (a required part is missing or malformed)`;
  } else {
    what = `the ${format} data is corrupt or uses a feature this reader does not support`;
  }
  return `${what}; ${again} (decoder said: ${raw})`;
}
