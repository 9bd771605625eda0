import { join } from "node:path";
import { assert, assertEquals, assertRejects, assertThrows } from "./_assert.ts";
import { assertClose } from "./_util.ts";
import type { Dataset, DatasetFormat } from "../src/data/dataset.ts";
import { exportSynthetic } from "../src/data/export.ts";
import { CHESTXRAY14_LABELS, CHEXPERT_LABELS, RSNA_LABELS } from "../src/data/labels.ts";
import {
  decodeDatasetCache,
  encodeDatasetCache,
  quantizeImages,
  readCacheHeader,
} from "../src/data/cache.ts";
import { labelStats } from "../src/data/subset.ts";
import { loadDataset, writeExportFolder } from "../src/cli/_fs_dataset.ts";
import { Rng } from "../src/util/rng.ts";

/** A small "synthetic" dataset with real-looking source names and patient ids that must not leak. */
function fake(
  format: DatasetFormat,
  labelNames: readonly string[],
  channels: number,
  n = 7,
  hw = 12,
): Dataset {
  const rng = new Rng(11);
  const L = labelNames.length;
  const labels = new Uint8Array(n * L);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < L; j++) labels[i * L + j] = rng.next() < 0.3 ? 1 : 0;
    if (format === "rsna") labels[i * L + 5] = labels.subarray(i * L, i * L + 5).some((v) => v) ? 0 : 1;
    if (format === "chexpert" && labels.subarray(i * L, (i + 1) * L).every((v) => !v)) labels[i * L + 2] = 1;
  }
  return {
    images: rng.uniforms(n * channels * hw * hw, -1, 1),
    n,
    channels,
    height: hw,
    width: hw,
    labels,
    labelNames: [...labelNames],
    patientIds: Array.from({ length: n }, (_, i) => `REALPATIENT${i}`),
    sources: Array.from({ length: n }, (_, i) => `REALNAME_${i}.png`),
    format,
  };
}

const cases: [DatasetFormat, readonly string[], number, 8 | 16][] = [
  ["chestxray14", CHESTXRAY14_LABELS, 1, 8],
  ["chexpert", CHEXPERT_LABELS, 1, 16],
  ["rsna", RSNA_LABELS, 3, 8],
  ["plain", ["x", "y", "z"], 1, 16],
];

for (const [format, names, channels, bitDepth] of cases) {
  Deno.test(`export ${format} (${channels} ch, ${bitDepth}-bit): loads back with the same labels and images`, async () => {
    const d = fake(format, names, channels);
    const src = labelStats(d.labels, d.labelNames, d.patientIds);
    const files = exportSynthetic(d, {
      bitDepth,
      sourceStats: src,
      generator: { model: "cpd-gan", step: 123 },
      config: { resolution: 12 },
      seed: 42,
      date: "2024-01-02T03:04:05Z",
      metrics: { fid: 12.5 },
    });
    const tmp = await Deno.makeTempDir({ prefix: "medsynth_export_" });
    try {
      const out = join(tmp, "synth");
      await writeExportFolder(out, files);
      const res = await loadDataset(out, { cache: false, channels: channels as 1 | 3 });
      const back = res.dataset;
      assertEquals(back.format, format);
      assertEquals(back.labelNames, [...names]);
      assertEquals([back.n, back.channels, back.height, back.width], [d.n, channels, d.height, d.width]);
      assertEquals(Array.from(back.labels), Array.from(d.labels));
      // 8-bit: |error| <= half a step of 2/255 on the [-1, 1] scale (16-bit likewise)
      const step = 2 / (bitDepth === 16 && channels === 1 ? 65535 : 255);
      assertClose(back.images, d.images, { atol: step / 2 + 1e-6, rtol: 0 });
      // no real name or patient id anywhere in the export
      const dec = new TextDecoder("latin1");
      for (const f of files) {
        const text = dec.decode(f.bytes);
        assert(!/REALNAME|REALPATIENT/.test(text) && !/REAL/.test(f.path), `${f.path} leaks a real id`);
      }
      assert(back.patientIds.every((p) => p === "synth"), "patient ids are synth");
      assert(back.sources.every((s) => /synth_?\d{6}/.test(s)), `generated names: ${back.sources[0]}`);
      // data card
      const card = JSON.parse(
        new TextDecoder().decode(files.find((f) => f.path === "data_card.json")!.bytes),
      );
      assertEquals(card.seed, 42);
      assertEquals(card.date, "2024-01-02T03:04:05Z");
      assertEquals(card.generator, { model: "cpd-gan", step: 123 });
      assertEquals(card.metrics, { fid: 12.5 });
      assertEquals(card.source.perLabel, src.perLabel);
      assertEquals(card.source.uniqueCombinations, src.uniqueCombinations);
      assertEquals(card.synthetic.images, d.n);
      assertEquals(card.export.bitDepth, channels === 3 ? 8 : bitDepth);
      const md = new TextDecoder().decode(files.find((f) => f.path === "data_card.md")!.bytes);
      assert(
        md.includes("unique label combinations: " + src.uniqueCombinations) && md.includes("fid"),
        "markdown",
      );
      // the folder is not replaced by accident
      await assertRejects(() => writeExportFolder(out, files), Error, /exists and is not empty/);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("export: bad inputs", () => {
  const d = fake("plain", ["x"], 1, 2, 4);
  assertThrows(
    () => exportSynthetic({ ...d, channels: 2, images: new Float32Array(2 * 2 * 16) }),
    Error,
    /2 channels/,
  );
  assertThrows(() => exportSynthetic(d, { patientId: "../x" }), Error, /plain name/);
  assertThrows(() => exportSynthetic(d, { format: "chestxray14" }), Error, /not findings/);
});

Deno.test("cache: uint8/uint16 round trip, header, quantisation grid, corruption", () => {
  const d = fake("rsna", RSNA_LABELS, 3, 5, 6);
  for (const dtype of ["uint8", "uint16"] as const) {
    const bytes = encodeDatasetCache(d, dtype, { csv: "x.csv", size: 6 });
    const max = dtype === "uint8" ? 255 : 65535;
    assertEquals(
      bytes.length,
      readCacheHeader(bytes).pixelOffset + d.images.length * (max > 255 ? 2 : 1) + d.labels.length,
    );
    assertEquals(readCacheHeader(bytes).pixelOffset % 8, 0);
    const { dataset, key } = decodeDatasetCache(bytes);
    assertEquals(key, { csv: "x.csv", size: 6 });
    assertEquals(Array.from(dataset.labels), Array.from(d.labels));
    assertEquals(dataset.patientIds, d.patientIds);
    assertEquals(dataset.sources, d.sources);
    assertEquals([dataset.n, dataset.channels, dataset.height, dataset.width, dataset.format], [
      5,
      3,
      6,
      6,
      "rsna",
    ]);
    assertClose(dataset.images, d.images, { atol: 1 / max + 1e-6, rtol: 0 }, dtype);
    // decoding equals quantising: fresh and cached loads agree exactly
    assertEquals(Array.from(dataset.images), Array.from(quantizeImages(d.images.slice(), dtype)));
    assertThrows(
      () => decodeDatasetCache(bytes.slice(0, bytes.length - 1), "c.msdc"),
      Error,
      /c\.msdc: truncated/,
    );
  }
  assertThrows(
    () => decodeDatasetCache(new Uint8Array(20), "z.msdc"),
    Error,
    /z\.msdc: not a medsynth cache/,
  );
});
