/**
 * The one error type of the DICOM reader (kept in its own file so every helper can throw it).
 * @module
 */

/** A DICOM file that cannot be read: the message names the file, the problem and what to do. */
export class DicomError extends Error {
  /** The file name passed to the reader (or "<bytes>"). */
  readonly file: string;
  /** Creates the error; `message` is prefixed with the file name. */
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "DicomError";
    this.file = file;
  }
}

/** Text of anything thrown by a third-party parser or codec (they throw strings and plain objects too). */
export function describeThrown(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === "string") return e;
  if (e && typeof e === "object") {
    const inner = (e as { exception?: unknown }).exception;
    if (inner !== undefined) return describeThrown(inner);
    try {
      return JSON.stringify(e);
    } catch {
      return String(e);
    }
  }
  return String(e);
}

/**
 * A codec failure in words, ending with what to do. The WASM codecs (CharLS, OpenJPEG, libjpeg-turbo)
 * throw a bare number (the address of a C++ exception) and the JavaScript decoders sometimes throw
 * JavaScript internals ("Offset is outside the bounds of the DataView"); all of it means damaged data.
 */
export function explainCodecError(e: unknown): string {
  const what = typeof e === "number" || typeof e === "bigint"
    ? `the decoder rejected the compressed data (corrupt or truncated codestream, internal code ${e})`
    : e instanceof RangeError
    ? `the compressed data ends early or a length inside it is wrong (${e.message})`
    : e instanceof TypeError
    ? `a required part of the codestream is missing or malformed (${e.message})`
    : describeThrown(e);
  // messages written here already say what to do
  if (/convert|not supported/i.test(what)) return what;
  return `${what}; the compressed Pixel Data is damaged or not in the format its transfer syntax says: ` +
    "copy the file again, or convert it (e.g. gdcmconv --raw) with the tool that wrote it";
}
