/**
 * `deno task generate --copies K`: K synthetic images per real label vector in every split; the first copy
 * is the 1-copy export image for image (same seed), the others have latents of their own; --copies is
 * refused where it has no meaning.
 */
import { join } from "node:path";
import { parseLabels } from "../src/data/labels.ts";
import { assert, assertEquals } from "./_assert.ts";
import { TINY_RUN } from "./_gan_setup.ts";
import { cli } from "./_cli.ts";

Deno.test("generate --copies K: K images per real label vector, the first copy is the 1-copy export", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "medsynth_copies_" });
  try {
    const run = join(tmp, "run");
    await Deno.writeTextFile(join(tmp, "tiny.json"), JSON.stringify({ ...TINY_RUN, sampleEvery: 100_000 }));
    const tr = await cli("train", [
      ...[
        "--config",
        join(tmp, "tiny.json"),
        "--data",
        "phantom:60",
        "--out",
        run,
        "--images",
        "16",
        "--quiet",
      ],
    ]);
    assertEquals(tr.code, 0, tr.stderr);
    for (const [k, dir] of [[1, "one"], [3, "three"]] as const) {
      const g = await cli("generate", ["--run", run, "--out", join(tmp, dir), "--copies", String(k)]);
      assertEquals(g.code, 0, g.stderr);
    }
    for (const split of ["train", "valid", "test"]) {
      const read = (dir: string) => {
        const file = join(tmp, dir, split, "labels.csv");
        return parseLabels(Deno.readTextFileSync(file), { file }).entries;
      };
      const one = read("one"), three = read("three"), n = one.length;
      assert(n > 0, `${split}: empty`);
      assertEquals(three.length, 3 * n, `${split}: 3 copies`);
      // the phantom exports in the RSNA layout: the CSV names ID_synth000001, the file is images/<ID>.png
      const png = (dir: string, src: string) => {
        const direct = join(tmp, dir, split, src);
        return Deno.readFileSync(
          src.endsWith(".png") ? direct : join(tmp, dir, split, "images", `${src}.png`),
        );
      };
      let differ = 0;
      for (let r = 0; r < n; r++) {
        for (let k = 0; k < 3; k++) {
          assertEquals(
            Array.from(three[k * n + r].labels),
            Array.from(one[r].labels),
            `${split} row ${r} copy ${k}`,
          );
        }
        assertEquals(
          png("three", three[r].source),
          png("one", one[r].source),
          `${split} row ${r}: first copy`,
        );
        const a = png("three", three[r].source), b = png("three", three[n + r].source);
        if (a.length !== b.length || a.some((v, i) => v !== b[i])) differ++;
      }
      assertEquals(differ, n, `${split}: every second copy has a latent of its own`);
    }
    const zero = await cli("generate", ["--run", run, "--out", join(tmp, "zero"), "--copies", "0"]);
    assert(zero.code !== 0 && /--copies must be a positive integer/.test(zero.stderr), zero.stderr);
    const withN = await cli("generate", [
      ...["--run", run, "--out", join(tmp, "n"), "--copies", "2", "--n", "2", "--combos", "epidural"],
    ]);
    assert(
      withN.code !== 0 && /--copies applies to --labels real-split only/.test(withN.stderr),
      withN.stderr,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
