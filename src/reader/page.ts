/**
 * The reader study page: one self-contained HTML document (inline CSS and script, no external
 * resources) that talks to the study server's JSON API. It never learns the truth: it gets random image
 * ids in the reader's order and posts answers one at a time.
 *
 * API used (the token query parameter is forwarded when the page URL has one; every API call also sends
 * the study token the server embedded in the page as header `x-study-token`):
 * `GET /api/study`, `POST /api/reader {reader, experience, key?}` (answers the reader's state and key; the
 * page makes the key, keeps it in localStorage and sends it every time, so a reader id alone gets nothing
 * and a retried registration is the same request), `POST
 * /api/answer {reader, item, answer, confidence?, change?, ms?}` with header `x-reader-key`,
 * `GET /img/<id>.png`.
 * @module
 */

const CSS = `
body { font-family: system-ui, sans-serif; margin: 0; background: #111; color: #eee; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; text-align: center; }
h1 { font-size: 1.3em; font-weight: 600; }
label { display: block; margin: 10px 0; }
input, select, button { font-size: 1em; padding: 6px 10px; }
button { margin: 4px; border-radius: 6px; border: 1px solid #666; background: #2a2a2a; color: #eee; cursor: pointer; }
button.chosen { background: #3a6; border-color: #3a6; }
button:disabled { opacity: 0.5; cursor: default; }
.hidden { display: none !important; }
#images { display: flex; gap: 16px; justify-content: center; margin: 12px 0; }
#images figure { margin: 0; }
#images img { width: min(72vh, 88vw); height: auto; image-rendering: pixelated; background: #000; }
body.pair #images img { width: min(60vh, 44vw); }
#bar { width: 100%; max-width: 600px; }
#status { min-height: 1.4em; color: #fc6; }
#error { color: #f77; white-space: pre-wrap; }
.keys { color: #aaa; font-size: 0.9em; }
`;

// Plain ES2017 without template literals, so it can sit inside this TypeScript template string.
const SCRIPT = String.raw`
(function () {
  "use strict";
  var token = new URLSearchParams(location.search).get("token");
  var meta = document.querySelector('meta[name="medsynth-study-token"]');
  var writeToken = token || (meta && meta.getAttribute("content")) || "";
  var readerKey = null;
  function keyName(reader) { return "medsynth-reader-key:" + reader; }
  var $ = function (id) { return document.getElementById(id); };
  var study = null, state = null, index = 0, confidence = null, shownAt = 0, busy = false, interlude = false;

  function url(path) {
    return token ? path + (path.indexOf("?") >= 0 ? "&" : "?") + "token=" + encodeURIComponent(token) : path;
  }
  function setState(s) {
    document.body.dataset.state = s;
    ["login", "trial", "interlude", "done"].forEach(function (id) { $(id).classList.toggle("hidden", id !== s); });
  }
  function showError(msg) { $("error").textContent = msg; }
  function api(method, path, body) {
    var headers = { "x-study-token": writeToken };
    if (body) headers["content-type"] = "application/json";
    if (readerKey) headers["x-reader-key"] = readerKey;
    return fetch(url(path), {
      method: method,
      headers: headers,
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
    });
  }
  function sleep(ms) { return new Promise(function (res) { setTimeout(res, ms); }); }
  // Answers survive a server restart: retry on network errors and 5xx until the server takes them.
  function postRetrying(path, body) {
    return api("POST", path, body).then(function (r) {
      if (r.status >= 500) throw new Error("server error " + r.status);
      $("status").textContent = "";
      return r;
    }).catch(function () {
      $("status").textContent = "Connection to the study server lost; retrying (your answer is kept)...";
      return sleep(1000).then(function () { return postRetrying(path, body); });
    });
  }

  function firstUnanswered() {
    for (var i = 0; i < state.trials.length; i++) if (!state.answers[state.trials[i].item]) return i;
    return state.trials.length;
  }
  function blockStart(i) { return i === 0 || state.trials[i - 1].block !== state.trials[i].block; }

  function render() {
    if (index >= state.trials.length) {
      $("done-count").textContent = String(state.trials.length);
      setState("done");
      return;
    }
    var t = state.trials[index];
    var nBlocks = study.blocks.length;
    if (interlude) {
      $("interlude-text").textContent = "Block " + (t.block + 1) + " of " + nBlocks + ": images of " + t.resolution +
        " x " + t.resolution + " pixels.";
      setState("interlude");
      $("continue").focus();
      return;
    }
    setState("trial");
    $("trial").dataset.item = t.item;
    $("block-info").textContent = "Block " + (t.block + 1) + " of " + nBlocks + " - " + t.resolution + " px";
    var done = Object.keys(state.answers).length;
    $("progress").textContent = "Item " + (index + 1) + " of " + state.trials.length + " (" + done + " answered)";
    $("bar").max = state.trials.length;
    $("bar").value = done;
    var box = $("images");
    box.textContent = "";
    t.images.forEach(function (id, k) {
      var fig = document.createElement("figure");
      var img = document.createElement("img");
      img.src = url("/img/" + id + ".png");
      img.alt = study.mode === "pair" ? (k === 0 ? "left image" : "right image") : "image";
      img.dataset.id = id;
      fig.appendChild(img);
      box.appendChild(fig);
    });
    var prev = state.answers[t.item];
    confidence = prev && prev.confidence ? prev.confidence : null;
    markChoice(prev ? prev.answer : null);
    $("back").disabled = index === 0;
    shownAt = performance.now();
    preload(index + 1);
  }
  function preload(i) {
    if (i < state.trials.length) state.trials[i].images.forEach(function (id) { new Image().src = url("/img/" + id + ".png"); });
  }
  function markChoice(answer) {
    var t = state.trials[index];
    document.querySelectorAll("[data-answer]").forEach(function (b) {
      var a = b.dataset.answer;
      var value = study.mode === "pair" ? t.images[a === "left" ? 0 : 1] : a;
      b.classList.toggle("chosen", answer !== null && value === answer);
    });
    document.querySelectorAll("[data-conf]").forEach(function (b) {
      b.classList.toggle("chosen", Number(b.dataset.conf) === confidence);
    });
  }

  function answer(choice) {
    if (busy || document.body.dataset.state !== "trial") return;
    var t = state.trials[index];
    var value = study.mode === "pair" ? t.images[choice === "left" ? 0 : 1] : choice;
    var prev = state.answers[t.item];
    if (prev && prev.answer === value && prev.confidence === confidence) { next(); return; }
    busy = true;
    document.body.dataset.busy = "1";
    var body = { reader: state.reader, item: t.item, answer: value, confidence: confidence, change: !!prev,
      ms: Math.round(performance.now() - shownAt) };
    postRetrying("/api/answer", body).then(function (r) {
      busy = false;
      delete document.body.dataset.busy;
      if (r.status === 200) {
        state.answers[t.item] = { answer: value, confidence: confidence };
        next();
      } else if (r.status === 409 && r.body.answer) {
        state.answers[t.item] = r.body.answer; // answered in another tab: keep the server's answer
        next();
      } else {
        showError(r.body.error || ("answer refused (" + r.status + ")"));
      }
    });
  }
  function next() {
    var from = index;
    index = firstUnanswered();
    interlude = index < state.trials.length && index !== from && blockStart(index) &&
      state.trials[index].block !== state.trials[from].block;
    render();
  }
  function back() {
    if (busy || index === 0 || document.body.dataset.state !== "trial") return;
    index -= 1;
    interlude = false;
    render();
  }
  function setConfidence(c) {
    confidence = confidence === c ? null : c;
    markChoice((state.answers[state.trials[index].item] || { answer: null }).answer);
  }

  function start(ev) {
    if (ev) ev.preventDefault();
    var reader = $("reader").value.trim();
    var experience = $("experience").value;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(reader)) { showError("Reader id: 1-64 letters, digits, '.', '_' or '-'."); return; }
    if (!experience) { showError("Please choose your experience level."); return; }
    showError("");
    try { localStorage.setItem("medsynth-reader", reader); localStorage.setItem("medsynth-experience", experience); } catch (_) {}
    // the key is made here, before the first request: a retry after a lost reply sends the same one
    var key = null;
    try { key = localStorage.getItem(keyName(reader)); } catch (_) {}
    if (!key) {
      key = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (b) {
        return (b + 256).toString(16).slice(1);
      }).join("");
      try { localStorage.setItem(keyName(reader), key); } catch (_) {}
    }
    postRetrying("/api/reader", { reader: reader, experience: experience, key: key }).then(function (r) {
      if (r.status !== 200) { showError(r.body.error || ("refused (" + r.status + ")")); return; }
      readerKey = r.body.key;
      try { localStorage.setItem(keyName(reader), readerKey); } catch (_) {}
      state = r.body;
      index = firstUnanswered();
      interlude = index < state.trials.length && blockStart(index);
      render();
    });
  }

  document.addEventListener("keydown", function (e) {
    var s = document.body.dataset.state;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (s === "interlude" && (e.key === "Enter" || e.key === " ")) { e.preventDefault(); interlude = false; render(); return; }
    if (s !== "trial") return;
    var k = e.key.toLowerCase();
    if (study.mode === "single") {
      if (k === "r" || k === "arrowleft") answer("real");
      else if (k === "s" || k === "arrowright") answer("synthetic");
      else if (k >= "1" && k <= "5") setConfidence(Number(k));
      else if (k === "b" || k === "backspace") back();
      else return;
    } else {
      if (k === "1" || k === "arrowleft") answer("left");
      else if (k === "2" || k === "arrowright") answer("right");
      else if (k === "b" || k === "backspace") back();
      else return;
    }
    e.preventDefault();
  });

  api("GET", "/api/study").then(function (r) {
    if (r.status !== 200) { showError(r.body.error || ("study not available (" + r.status + ")")); return; }
    study = r.body;
    document.body.classList.add(study.mode);
    document.title = study.title;
    $("title").textContent = study.title;
    $("intro").textContent = study.mode === "single"
      ? "Each image is either a real radiograph or a synthetic one. Decide which. " + study.total + " images in " +
        study.blocks.length + " blocks."
      : "Each screen shows a real and a synthetic image with the same findings. Pick the synthetic one. " +
        study.total + " pairs in " + study.blocks.length + " blocks.";
    $("keys").textContent = study.mode === "single"
      ? "Keys: R or Left = real, S or Right = synthetic, 1-5 = confidence (optional), B = previous."
      : "Keys: 1 or Left = left is synthetic, 2 or Right = right is synthetic, B = previous.";
    $("answers-single").classList.toggle("hidden", study.mode !== "single");
    $("answers-pair").classList.toggle("hidden", study.mode !== "pair");
    var sel = $("experience");
    study.experienceLevels.forEach(function (lvl) {
      var o = document.createElement("option");
      o.value = lvl; o.textContent = lvl; sel.appendChild(o);
    });
    try {
      $("reader").value = localStorage.getItem("medsynth-reader") || "";
      sel.value = localStorage.getItem("medsynth-experience") || "";
    } catch (_) {}
    document.querySelectorAll("[data-answer]").forEach(function (b) {
      b.addEventListener("click", function () { answer(b.dataset.answer); });
    });
    document.querySelectorAll("[data-conf]").forEach(function (b) {
      b.addEventListener("click", function () { setConfidence(Number(b.dataset.conf)); });
    });
    $("back").addEventListener("click", back);
    $("continue").addEventListener("click", function () { interlude = false; render(); });
    $("login-form").addEventListener("submit", start);
    setState("login");
  }).catch(function (e) { showError("Cannot reach the study server: " + e); });
})();
`;

/**
 * The reader page as one HTML document, carrying the study token its API calls need (`token`: 32 hex
 * digits from the manifest; other text is refused so nothing can be injected into the page).
 */
export function readerPageHtml(token = ""): string {
  if (!/^[0-9a-f]*$/.test(token)) throw new Error("readerPageHtml: the token must be hex digits");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="medsynth-study-token" content="${token}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Reader study</title>
<style>${CSS}</style>
</head>
<body data-state="loading">
<main>
<h1 id="title">Reader study</h1>
<p id="error" role="alert"></p>
<p id="status" aria-live="polite"></p>
<section id="login" class="hidden">
  <p id="intro"></p>
  <form id="login-form">
    <label>Reader id <input id="reader" autocomplete="off" required maxlength="64"></label>
    <label>Experience <select id="experience" required><option value="">choose...</option></select></label>
    <button id="start" type="submit">Start or continue</button>
  </form>
  <p class="keys">Closing this tab is safe: enter the same id in this browser to continue where you stopped.</p>
</section>
<section id="interlude" class="hidden">
  <p id="interlude-text"></p>
  <button id="continue">Continue (Enter)</button>
</section>
<section id="trial" class="hidden">
  <div id="block-info"></div>
  <div id="progress" aria-live="polite"></div>
  <progress id="bar" value="0" max="1"></progress>
  <div id="images"></div>
  <div id="answers-single">
    <button data-answer="real" id="btn-real">Real (R)</button>
    <button data-answer="synthetic" id="btn-synthetic">Synthetic (S)</button>
    <div>Confidence (optional):
      <button data-conf="1">1</button><button data-conf="2">2</button><button data-conf="3">3</button><button data-conf="4">4</button><button data-conf="5">5</button>
    </div>
  </div>
  <div id="answers-pair">
    <button data-answer="left" id="btn-left">Left is synthetic (1)</button>
    <button data-answer="right" id="btn-right">Right is synthetic (2)</button>
  </div>
  <div><button id="back">Previous (B)</button></div>
  <p class="keys" id="keys"></p>
</section>
<section id="done" class="hidden">
  <p>All <span id="done-count"></span> items answered. Thank you!</p>
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
