import { throws as assertThrows } from "node:assert";
import {
  concatBackward,
  concatBackwardRef,
  concatForward,
  concatForwardRef,
  concatShape,
  readChannels,
  readChannelsRef,
  writeChannels,
} from "../src/nn/concat.ts";
import { assertClose, rand, testGpu } from "./_util.ts";

const CASES: [number[], number[]][] = [
  [[2, 3, 5, 5], [2, 4, 5, 5]],
  [[1, 1, 7, 7], [1, 3, 7, 7]],
  [[3, 8, 16, 16], [3, 5, 16, 16]],
  [[4, 7], [4, 10]],
];

Deno.test("concat GPU forward and backward equal the CPU reference", async () => {
  const gpu = await testGpu();
  for (const [sa, sb] of CASES) {
    const sy = concatShape(sa, sb);
    const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
    const ah = rand(na, 1), bh = rand(nb, 2), dyh = rand(na + nb, 3);
    const a = gpu.tensor(sa, ah), b = gpu.tensor(sb, bh), y = gpu.tensor(sy);
    const dy = gpu.tensor(sy, dyh), da = gpu.tensor(sa), db = gpu.tensor(sb);
    gpu.run((rec) => {
      concatForward(rec, a, b, y);
      concatBackward(rec, dy, da, db);
    });
    const exact = { atol: 0, rtol: 0 };
    assertClose(await gpu.read(y), concatForwardRef(ah, bh, sa, sb), exact, `y ${sa}+${sb}`);
    const ref = concatBackwardRef(dyh, sa, sb);
    assertClose(await gpu.read(da), ref.da, exact, `da ${sa}+${sb}`);
    assertClose(await gpu.read(db), ref.db, exact, `db ${sa}+${sb}`);
    for (const t of [a, b, y, dy, da, db]) t.dispose();
  }
});

Deno.test("concat CPU reference puts a's channels first and backward inverts forward", () => {
  // a: (2, 1, 2), b: (2, 2, 2)
  const y = concatForwardRef([1, 2, 3, 4], [5, 6, 7, 8, 9, 10, 11, 12], [2, 1, 2], [2, 2, 2]);
  assertClose(y, [1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12], { atol: 0, rtol: 0 }, "concat order");
  const { da, db } = concatBackwardRef(y, [2, 1, 2], [2, 2, 2]);
  assertClose(da, [1, 2, 3, 4], { atol: 0, rtol: 0 }, "da");
  assertClose(db, [5, 6, 7, 8, 9, 10, 11, 12], { atol: 0, rtol: 0 }, "db");
  assertThrows(() => concatShape([2, 3, 4, 4], [2, 3, 5, 5]), /agree on every axis but axis 1/);
});

Deno.test("channel slices: writeChannels puts a tensor into channels [c0, c0 + C), readChannels takes them out", async () => {
  const gpu = await testGpu();
  // the concat-free dense block: the features of a concat(a, b) built by writing a and b into one buffer
  for (const [sa, sb] of CASES) {
    const sy = concatShape(sa, sb);
    const na = sa.reduce((p, d) => p * d, 1), nb = sb.reduce((p, d) => p * d, 1);
    const ah = rand(na, 4), bh = rand(nb, 5);
    const a = gpu.tensor(sa, ah), b = gpu.tensor(sb, bh), y = gpu.tensor(sy);
    const a2 = gpu.tensor(sa), b2 = gpu.tensor(sb);
    gpu.run((rec) => {
      writeChannels(rec, a, y, 0);
      writeChannels(rec, b, y, sa[1]);
      readChannels(rec, y, 0, a2);
      readChannels(rec, y, sa[1], b2);
    });
    const exact = { atol: 0, rtol: 0 };
    const yh = await gpu.read(y);
    assertClose(yh, concatForwardRef(ah, bh, sa, sb), exact, `slices = concat ${sa}+${sb}`);
    assertClose(await gpu.read(a2), ah, exact, `read a ${sa}`);
    assertClose(await gpu.read(b2), bh, exact, `read b ${sb}`);
    assertClose(readChannelsRef(yh, sy, sa[1], sb[1]), bh, exact, `ref read b ${sb}`);
    for (const t of [a, b, y, a2, b2]) t.dispose();
  }
  const t = gpu.tensor([2, 3, 4, 4]), wide = gpu.tensor([2, 5, 4, 4]);
  assertThrows(() => gpu.run((rec) => writeChannels(rec, t, wide, 3)), /does not fit channels 3..6/);
  t.dispose();
  wide.dispose();
});
