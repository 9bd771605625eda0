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
