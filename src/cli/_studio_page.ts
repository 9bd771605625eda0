/**
 * The studio's HTML (`/studio` of `deno task serve`, `dist/studio.html` of `deno task bundle`): the four
 * steps (data, train, evaluate, export) as sections; the script (src/studio/page.ts, bundled to
 * studio.js) does the work on the visitor's WebGPU. No external resource: the page works offline and
 * fetches nothing but its own script.
 * @module
 */

/** Options of {@linkcode studioPage}. */
export interface StudioPageOptions {
  /** URL of the bundled page script (`/dist/studio.js` when served, `studio.js` beside dist/studio.html). */
  script: string;
}

const CSS =
  `*{box-sizing:border-box}[hidden]{display:none!important}body{font-family:system-ui,sans-serif;margin:0;color:#111827;background:#f9fafb}
header{background:#1f2937;color:#fff;padding:10px 20px;display:flex;flex-wrap:wrap;gap:4px 20px;align-items:baseline}
header h1{font-size:1.25rem;margin:0}header p{margin:0;font-size:.85rem;color:#d1d5db}
main{max-width:1180px;margin:0 auto;padding:12px 16px;display:grid;grid-template-columns:repeat(auto-fit,minmax(360px,1fr));gap:14px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px 16px;min-width:0}
.wide{grid-column:1/-1}h2{font-size:1.05rem;margin:0 0 8px}
label{margin-right:10px}input[type=number]{width:6em}textarea{width:100%;font:12px monospace;min-height:4em}
button{padding:5px 12px;margin:4px 6px 4px 0;border-radius:5px;border:1px solid #9ca3af;background:#f3f4f6;cursor:pointer}
button:disabled{opacity:.5;cursor:default}button.primary{background:#2563eb;color:#fff;border-color:#1d4ed8}
#error{color:#b91c1c;white-space:pre-wrap;margin:0}.note{font-size:.85rem;color:#4b5563}
.tables{display:flex;flex-wrap:wrap;gap:12px}table{border-collapse:collapse;font-size:.85rem}
caption{text-align:left;font-weight:600;padding-bottom:2px}td,th{border-bottom:1px solid #e5e7eb;padding:2px 8px;text-align:left}
progress{width:100%;height:14px}#samples{width:100%;max-width:520px;image-rendering:pixelated;border:1px solid #d1d5db;display:block}
#losses svg{width:100%;height:auto;max-width:560px}#report{width:100%;height:720px;border:1px solid #d1d5db}
.fields{display:flex;flex-wrap:wrap;gap:4px 14px;margin:6px 0}.fields label{white-space:nowrap;margin:0}
#stages{margin:4px 0;padding-left:20px;font-size:.9rem}#error:empty,#storage:empty{display:none}
@media (max-width:600px){main{padding:8px;grid-template-columns:1fr}#report{height:520px}}`;

/** The page's HTML. */
export function studioPage(opts: StudioPageOptions): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<title>medsynth studio</title><style>${CSS}</style></head>
<body data-state="loading">
<header><h1>medsynth studio</h1><p id="adapter">Starting WebGPU...</p>
<p>Everything runs in this tab on this machine's GPU: no image, label or result is uploaded.</p></header>
<main>
<p id="error" role="alert" class="wide"></p><p id="storage" class="note wide"></p>
<section id="step-data"><h2>1. Data</h2>
<p><label><input type="radio" name="source" value="phantom" checked> built-in phantom,
<input id="phantom-count" type="number" min="50" step="1" value="400"> images</label></p>
<p><label><input type="radio" name="source" value="folder"> a local folder</label></p>
<p id="folder-row" hidden><input id="folder" type="file" webkitdirectory multiple>
<button id="open-folder" type="button" hidden>Open folder...</button><br>
<span class="note">DICOM, PNG or JPEG with a ChestX-ray14, CheXpert, RSNA or plain label CSV at the folder's top.</span></p>
<p><label>Preset <select id="preset"></select></label> <span id="config-info" class="note"></span></p>
<p><label for="config">Config overrides (JSON, optional)</label>
<textarea id="config" spellcheck="false" placeholder='{"images": 2000, "batchSize": 16}'></textarea></p>
<button id="load" class="primary">Load data</button> <span id="data-status" class="note"></span>
<details><summary>or continue a run folder of <code>deno task train</code></summary>
<p><input id="run-folder" type="file" webkitdirectory multiple> <button id="open-run">Open run</button><br>
<span class="note">Its data: the phantom it names, or the folder picked above.</span></p></details>
<div id="stats"></div></section>
<section id="step-train"><h2>2. Train</h2>
<button id="train" class="primary" disabled>Train</button><button id="pause" disabled>Pause</button>
<p id="train-status" class="note">Load data first.</p>
<progress id="bar" value="0" max="1"></progress><p id="train-numbers" class="note"></p>
<p id="checkpoint" class="note"></p><div id="losses"></div>
<p id="samples-info" class="note"></p><canvas id="samples" width="1" height="1" hidden></canvas><p id="rows" class="note"></p>
</section>
<section id="step-eval"><h2>3. Evaluate</h2>
<p class="note">The classifier is trained on the real and on the synthetic training images and tested on
the real test images; then fidelity and privacy in its feature space. Budgets:</p>
<div class="fields"><label>classifier images <input id="eval-images" type="number" min="1" value="2000"></label>
<label>epochs <input id="eval-epochs" type="number" min="1" value="5"></label>
<label>bootstrap resamples <input id="eval-resamples" type="number" min="1" value="200"></label></div>
<button id="evaluate" class="primary" disabled>Evaluate</button> <span id="eval-status" class="note"></span>
<ol id="stages"></ol></section>
<section id="step-export"><h2>4. Export</h2>
<p class="note">A zip of the run folder: config.json, data.json, metrics.jsonl, generator.ckpt, samples/,
and after the evaluation synthetic/ (images + label CSV in the input's format + data card), results.json
and report.html. The real images are never included.</p>
<button id="export" class="primary" disabled>Prepare zip</button>
<a id="download" download="medsynth-run.zip" hidden>Download medsynth-run.zip</a>
<p id="export-status" class="note"></p>
<p><button id="reset">Start over</button> <span class="note">deletes this browser's stored run</span></p></section>
<section class="wide"><h2>Report</h2><iframe id="report" title="evaluation report" hidden sandbox="allow-same-origin"></iframe>
<p id="report-note" class="note">The report appears here after the evaluation.</p></section>
</main>
<noscript>The studio needs JavaScript and WebGPU.</noscript>
<script type="module" src="${opts.script}"></script></body></html>`;
}
