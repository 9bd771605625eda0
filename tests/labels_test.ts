import { assert, assertEquals, assertThrows } from "./_assert.ts";
import {
  CHESTXRAY14_LABELS,
  CHEXPERT_LABELS,
  detectLabelFormat,
  parseCsv,
  parseCsvRows,
  parseLabels,
  patientFromPath,
  RSNA_LABELS,
  toCsv,
  writeLabels,
} from "../src/data/labels.ts";

const vec = (names: readonly string[], on: string[]) => names.map((n) => (on.includes(n) ? 1 : 0));

Deno.test("csv: quotes, escaped quotes, embedded newlines, CRLF, BOM, blank lines", () => {
  const text = '\ufeffa,b,c\r\n1,"x, y","say ""hi"""\r\n\r\n2,"multi\nline",\n';
  const { rows, lines } = parseCsvRows(text, "t.csv");
  assertEquals(rows, [["a", "b", "c"], ["1", "x, y", 'say "hi"'], ["2", "multi\nline", ""]]);
  assertEquals(lines, [1, 2, 4]);
  const t = parseCsv(text, "t.csv");
  assertEquals(t.header, ["a", "b", "c"]);
  assertEquals(t.lines, [2, 4]);
  // writer and parser agree
  const rows2 = [["p", "q"], ['a"b', "c,d"], [" lead", "new\nline"]];
  assertEquals(parseCsvRows(toCsv(rows2)).rows, rows2);
});

Deno.test("csv: malformed input names the file and line", () => {
  assertThrows(
    () => parseCsv("a,b\n1,2\n3\n", "m.csv"),
    Error,
    /m\.csv line 3: malformed row: 1 fields, the header has 2/,
  );
  assertThrows(() => parseCsv('a,b\n1,"open\n', "q.csv"), Error, /q\.csv line 2: unterminated quoted field/);
  assertThrows(
    () => parseCsv('a,b\n"x"y,2\n', "z.csv"),
    Error,
    /z\.csv line 2: unexpected text after a closing quote/,
  );
  assertThrows(() => parseCsv("", "e.csv"), Error, /e\.csv: empty CSV/);
});

Deno.test("chestxray14: findings, No Finding, patient ids, detection", () => {
  const text = "Image Index,Finding Labels,Patient ID\n" +
    "a_000.png,No Finding,1\nb_000.png,Effusion|Mass,2\nb_001.png,Hernia,2\n";
  const t = parseLabels(text, { file: "d.csv" });
  assertEquals(t.format, "chestxray14");
  assertEquals(t.labelNames, [...CHESTXRAY14_LABELS]);
  assertEquals(t.entries.map((e) => [e.source, e.patientId, Array.from(e.labels)]), [
    ["a_000.png", "1", vec(CHESTXRAY14_LABELS, [])],
    ["b_000.png", "2", vec(CHESTXRAY14_LABELS, ["Effusion", "Mass"])],
    ["b_001.png", "2", vec(CHESTXRAY14_LABELS, ["Hernia"])],
  ]);
  assertThrows(
    () => parseLabels(text + "c.png,Effusion|Flu,3\n", { file: "d.csv" }),
    Error,
    /d\.csv line 5: unknown finding "Flu"/,
  );
  assertThrows(
    () => parseLabels(text + "a_000.png,Mass,9\n", { file: "d.csv" }),
    Error,
    /d\.csv line 5: duplicate image "a_000\.png" \(first on line 2\)/,
  );
  assertThrows(
    () => parseLabels("Image Index,Finding Labels,Patient ID\n", { file: "d.csv" }),
    Error,
    /no labelled images/,
  );
});

Deno.test("chexpert: frontal only, uncertain -> positive or negative, no-positive rows dropped, patient from path", () => {
  const cols = CHEXPERT_LABELS.join(",");
  const row = (path: string, view: string, vals: Record<string, string>) =>
    [path, "Female", "50", view, "AP", ...CHEXPERT_LABELS.map((l) => vals[l] ?? "")].join(",");
  const text = [
    `Path,Sex,Age,Frontal/Lateral,AP/PA,${cols}`,
    row("CheXpert-v1.0-small/train/patient00001/study1/view1_frontal.jpg", "Frontal", {
      Edema: "1.0",
      Fracture: "0.0",
    }),
    row("CheXpert-v1.0-small/train/patient00001/study1/view2_lateral.jpg", "Lateral", { Edema: "1.0" }),
    row("CheXpert-v1.0-small/train/patient00002/study1/view1_frontal.jpg", "Frontal", { Pneumonia: "-1.0" }),
    row("CheXpert-v1.0-small/train/patient00003/study2/view1_frontal.jpg", "Frontal", { Pneumonia: "0.0" }),
  ].join("\n");
  const t = parseLabels(text, { file: "train.csv" });
  assertEquals(t.format, "chexpert");
  assertEquals(t.entries.map((e) => e.patientId), ["00001", "00002"]);
  assertEquals(Array.from(t.entries[0].labels), vec(CHEXPERT_LABELS, ["Edema"]));
  assertEquals(Array.from(t.entries[1].labels), vec(CHEXPERT_LABELS, ["Pneumonia"]));
  assertEquals(t.dropped.map((d) => [d.line, d.reason]), [[3, "lateral view"], [5, "no positive label"]]);

  const neg = parseLabels(text, { file: "train.csv", uncertain: "negative", dropNoPositive: false });
  assertEquals(neg.entries.map((e) => e.patientId), ["00001", "00002", "00003"]);
  assertEquals(Array.from(neg.entries[1].labels), vec(CHEXPERT_LABELS, []));
  assertEquals(patientFromPath("a/patient123/study4/v.jpg"), "123");
  assertEquals(patientFromPath("v.jpg"), null);
  assertThrows(
    () => parseLabels(text.replace('"-1.0"', "").replace("-1.0", "2"), { file: "train.csv" }),
    Error,
    /train\.csv line 4: column "Pneumonia" has "2", expected 1, 0, -1 or blank/,
  );
});

Deno.test("rsna: six classes (5 subtypes + no_finding = not any), patient map, errors", () => {
  const sub = ["epidural", "intraparenchymal", "intraventricular", "subarachnoid", "subdural", "any"];
  const rows = (img: string, on: string[]) => sub.map((s) => `ID_${img}_${s},${on.includes(s) ? 1 : 0}`);
  const text = ["ID,Label", ...rows("aa1", ["subdural", "epidural", "any"]), ...rows("bb2", [])].join("\n");
  assertEquals(detectLabelFormat(["ID", "Label"]), "rsna");
  const t = parseLabels(text, { file: "s.csv" });
  assertEquals(t.labelNames, [...RSNA_LABELS]);
  assertEquals(t.entries.map((e) => [e.source, e.patientId, Array.from(e.labels)]), [
    ["ID_aa1", "aa1", vec(RSNA_LABELS, ["epidural", "subdural"])],
    ["ID_bb2", "bb2", vec(RSNA_LABELS, ["no_finding"])],
  ]);
  const pm = "SOPInstanceUID,PatientID\nID_aa1,P7\nID_bb2,P7\n";
  const tp = parseLabels(text, { file: "s.csv", patientMap: pm, patientMapFile: "p.csv" });
  assertEquals(tp.entries.map((e) => e.patientId), ["P7", "P7"]);
  assertThrows(
    () =>
      parseLabels(text, { file: "s.csv", patientMap: "ID,PatientID\nID_aa1,P7\n", patientMapFile: "p.csv" }),
    Error,
    /p\.csv: no patient for image ID_bb2/,
  );
  assertThrows(
    () => parseLabels(text + "\nID_cc3_flu,1", { file: "s.csv" }),
    Error,
    /s\.csv line 14: unknown subtype "flu"/,
  );
  assertThrows(
    () => parseLabels(text + "\nID_aa1_epidural,1", { file: "s.csv" }),
    Error,
    /s\.csv line 14: duplicate ID "ID_aa1_epidural"/,
  );
  assertThrows(
    () => parseLabels(text + "\nID_cc3_epidural,1", { file: "s.csv" }),
    Error,
    /ID_cc3 has no row for intraparenchymal/,
  );
  assertThrows(
    () => parseLabels(text.replace("ID_aa1_any,1", "ID_aa1_any,0"), { file: "s.csv" }),
    Error,
    /"any" is 0 but the subtypes say 1/,
  );
  assertThrows(
    () => parseLabels(text.replace("ID_bb2_any,0", "ID_bb2_any,x"), { file: "s.csv" }),
    Error,
    /Label "x"/,
  );
});

Deno.test("plain: path + 0/1 columns + optional patient column", () => {
  const t = parseLabels("path,cat,dog,patient\nim/a.png,1,0,p1\nim/b.png,1,1,p2\n", { file: "l.csv" });
  assertEquals(t.format, "plain");
  assertEquals(t.labelNames, ["cat", "dog"]);
  assertEquals(t.entries.map((e) => [e.source, e.patientId, Array.from(e.labels)]), [
    ["im/a.png", "p1", [1, 0]],
    ["im/b.png", "p2", [1, 1]],
  ]);
  const np = parseLabels("file,x\na.png,0\n", { file: "l.csv" });
  assertEquals(np.entries[0].patientId, "a.png");
  assertThrows(
    () => parseLabels("path,cat\na.png,yes\n", { file: "l.csv" }),
    Error,
    /l\.csv line 2: column "cat" has "yes"/,
  );
  assertThrows(
    () => detectLabelFormat(["foo", "bar"], "u.csv"),
    Error,
    /u\.csv: cannot tell the label format/,
  );
});

Deno.test("writeLabels: every format reads back to the same labels", () => {
  const cases: [Parameters<typeof writeLabels>[0], readonly string[]][] = [
    ["chestxray14", CHESTXRAY14_LABELS],
    ["chexpert", CHEXPERT_LABELS],
    ["rsna", RSNA_LABELS],
    ["plain", ["a b", "c,d", "e"]],
  ];
  for (const [format, names] of cases) {
    const rows = Array.from({ length: 6 }, (_, i) => {
      const labels: number[] = names.map((_, j) => ((i * 7 + j * 3) % 4 === 0 ? 1 : 0));
      if (format === "rsna") labels[5] = labels.slice(0, 5).some((v) => v) ? 0 : 1;
      if (format === "chexpert" && !labels.includes(1)) labels[1] = 1;
      const source = format === "rsna"
        ? `ID_synth${i}`
        : format === "chexpert"
        ? `x/patientsynth/study1/s${i}.png`
        : `s${i}.png`;
      return { source, patientId: "synth", labels };
    });
    const files = writeLabels(format, names, rows);
    const map = files.find((f) => f.path === "patients.csv");
    const t = parseLabels(files[0].text, { file: files[0].path, patientMap: map?.text });
    assertEquals(t.format, format === "plain" ? "plain" : format);
    assertEquals(t.labelNames, [...names]);
    assertEquals(t.entries.map((e) => Array.from(e.labels)), rows.map((r) => r.labels), format);
    assertEquals(t.entries.map((e) => e.source), rows.map((r) => r.source));
    assert(t.entries.every((e) => e.patientId === "synth"), `${format}: patient ids`);
  }
  assertThrows(() => writeLabels("chestxray14", ["Flu"], []), Error, /Flu are not findings/);
});

Deno.test("label CSV: a duplicate header column and No Finding mixed with findings are named errors", () => {
  assertThrows(
    () => parseCsv("Image Index,Patient ID,Image Index\na.png,1,b.png\n", "dup.csv"),
    Error,
    /dup\.csv line 1: the header names column "Image Index" twice/,
  );
  const csv = "Image Index,Finding Labels,Patient ID\na.png,No Finding|Atelectasis,7\n";
  let msg = "";
  try {
    parseLabels(csv, { file: "Data_Entry.csv" });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert(
    /Data_Entry\.csv line 2: "No Finding\|Atelectasis" combines "No Finding" with findings/.test(msg),
    msg,
  );
  assert(!msg.includes("unknown finding"), `"No Finding" is a known label: ${msg}`);
});
