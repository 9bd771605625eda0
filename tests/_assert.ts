/** Assertions on top of node:assert (the JSR @std/assert is not reachable here). */
import nodeAssert from "node:assert";

/** Asserts a condition. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Asserts `fn` throws an instance of `cls` (and optionally a message matching `re`); returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: new (...a: never[]) => E = Error as unknown as new (...a: never[]) => E,
  re?: RegExp,
): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (re && !re.test(e.message)) throw new Error(`error message "${e.message}" does not match ${re}`);
    return e;
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}

/** Asserts the promise from `fn` rejects with an instance of `cls`; returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: new (...a: never[]) => E = Error as unknown as new (...a: never[]) => E,
  re?: RegExp,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (re && !re.test(e.message)) throw new Error(`error message "${e.message}" does not match ${re}`);
    return e;
  }
  throw new Error(`expected ${cls.name} rejection`);
}
