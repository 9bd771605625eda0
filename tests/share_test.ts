/**
 * What users share carries nothing of the input (issue 14 item 7). A DICOM input with a patient name,
 * patient ids, study/series/instance UIDs and telling file and folder names goes through `deno task
 * train`, `generate`, `evaluate` and `report`; then every shared file (the synthetic export with its
 * data card, report_shareable.html, results_shareable.json) is searched for each identifier, each input
 * file name and the input's paths, and the run folder's own files (data.json, generator.ckpt,
 * results.json, report.html) for the input's absolute path (they hold it relative to the run folder).
 * Before: data.json, generator.ckpt, results.json and report.html carried the absolute path, the data card
 * the checkpoint's absolute path.
 */
import { join, relative } from "node:path";
import { decodeFrames, parseDicom } from "../src/data/dicom.ts";
import { writeDicomCt } from "../src/data/dicom_write.ts";
import { phantomToDicomSeries } from "../src/data/phantom.ts";
import { parseLabels, RSNA_LABELS, writeLabels } from "../src/data/labels.ts";
import { assert, assertEquals } from "./_assert.ts";
import { TINY_RUN } from "./_gan_setup.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function cli(script: string, args: string[]): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "src/cli", script), ...args],
    env: { XDG_RUNTIME_DIR: Deno.env.get("XDG_RUNTIME_DIR") ?? "/tmp" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(r.success, `${script} ${args.join(" ")}:\n${new TextDecoder().decode(r.stderr)}`);
}

/** All files under `dir`, relative paths. */
async function walk(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(dir, rel))) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await walk(dir, r));
    else out.push(r);
  }
  return out;
}

/** Where `needle` occurs in `bytes` as latin1 text (identifiers are ASCII), or -1. */
function find(bytes: Uint8Array, needle: string): number {
  return new TextDecoder("latin1").decode(bytes).indexOf(needle);
}

Deno.test("shared files carry no identifier, file name or path of a DICOM input", async () => {
  const tmp = await Deno.realPath(await Deno.makeTempDir({ prefix: "medsynth_share_" }));
  try {
    // a hospital export: patient names and ids, UIDs, and names that say where it came from
    const folder = join(tmp, "StElsewhere_Neuro_Export");
    await Deno.mkdir(folder);
    const series = phantomToDicomSeries({
      seed: 5,
      labels: {
        kind: "combos",
        count: 96,
        combos: [{ findings: [], weight: 0.5 }, { findings: ["intraventricular"], weight: 0.5 }],
      },
    }, { size: 32 });
    const truth = parseLabels(series.csv, { patientMap: series.patientsCsv });
    assertEquals(truth.labelNames, [...RSNA_LABELS]);
    const ids: string[] = [];
    const rows = [];
    for (let i = 0; i < series.files.length; i++) {
      const img = parseDicom(series.files[i].bytes, series.files[i].name);
      const [hu] = await decodeFrames(img);
      const p = i % 24;
      const image = `MRN4471${String(i).padStart(3, "0")}SCAN`;
      const u = (k: number) => `1.2.826.0.1.3680043.9.7133.${p}.${k}.${i}`;
      await Deno.writeFile(
        join(folder, `ID_${image}.dcm`),
        writeDicomCt({
          hu,
          rows: 32,
          columns: 32,
          sopInstanceUid: u(3),
          studyInstanceUid: `1.2.826.0.1.3680043.9.7133.${p}.1`,
          seriesInstanceUid: `1.2.826.0.1.3680043.9.7133.${p}.2`,
          patientId: `PATID-${p}-WARD7`,
          patientName: `Doe^Janet${p}^Q`,
          instanceNumber: i + 1,
        }),
      );
      ids.push(image, `PATID-${p}-WARD7`, `Doe^Janet${p}^Q`, u(3), `1.2.826.0.1.3680043.9.7133.${p}.1`);
      assertEquals(`${truth.entries[i].source}.dcm`, series.files[i].name);
      rows.push({ source: `ID_${image}`, patientId: `PATID-${p}-WARD7`, labels: truth.entries[i].labels });
    }
    for (const f of writeLabels("rsna", RSNA_LABELS, rows)) {
      await Deno.writeTextFile(join(folder, f.path), f.text);
    }

    const run = join(tmp, "runs", "share");
    await Deno.mkdir(join(tmp, "runs"));
    await Deno.writeTextFile(
      join(tmp, "tiny.json"),
      JSON.stringify({ ...TINY_RUN, sampleEvery: 0, checkpointEvery: 24, images: 48 }),
    );
    await cli("train.ts", ["--config", join(tmp, "tiny.json"), "--data", folder, "--out", run, "--quiet"]);
    await cli("evaluate.ts", [
      "--run",
      run,
      "--images",
      "96",
      "--epochs",
      "1",
      "--resamples",
      "50",
      "--quiet",
    ]);
    await cli("report.ts", ["--run", run]);

    // the run folder's files hold the input relative to the run folder, never absolute
    const spec = JSON.parse(await Deno.readTextFile(join(run, "data.json")));
    assertEquals(spec.source, relative(run, folder));
    for (const f of ["data.json", "generator.ckpt", "results.json", "report.html"]) {
      const bytes = await Deno.readFile(join(run, f));
      assert(find(bytes, tmp) < 0, `${f} holds the absolute path ${tmp}`);
    }

    // the shared files hold nothing of the input at all
    const shared = [
      ...(await walk(join(run, "synthetic"))).map((f) => join("synthetic", f)),
      "report_shareable.html",
      "results_shareable.json",
    ];
    assert(shared.some((f) => f.endsWith("data_card.json")) && shared.length > 100, shared.join(", "));
    const needles = [...new Set(ids), "StElsewhere", tmp, "1.2.826.0.1.3680043.9.7133"];
    for (const f of shared) {
      const bytes = await Deno.readFile(join(run, f));
      for (const n of needles) assert(find(bytes, n) < 0, `${f} contains "${n}"`);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
