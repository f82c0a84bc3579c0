/**
 * reader widget: "listen to this article" for article pages.
 *
 *   <script src="https://reader.example.org/widget.js" data-content="#article" defer></script>
 *
 * Two custom elements, no dependencies, no build step:
 *   <reader-widget>    the assistant: mascot button, control panel, the player;
 *   <reader-captions>  the large-caption bar (大字幕) at the bottom of the window.
 * Inputs are attributes, state is reflected as attributes, outputs are bubbling CustomEvents.
 * Every option, event, CSS custom property and shortcut is documented in docs/widget.md.
 */
(() => {
  "use strict";

  // ------------------------------------------------------------------ settings

  // Read while the script runs: afterwards currentScript is null.
  const OWN_SCRIPT = document.currentScript
    ?? document.querySelector('script[src*="widget.js"]');

  // Fetches and clips that take longer than this fail with a message (no endless spinner).
  const FETCH_TIMEOUT_MS = 15_000;
  const AUDIO_TIMEOUT_MS = 15_000;
  const HEALTH_TIMEOUT_MS = 5_000;
  // Point-to-read waits this long on a paragraph, so sweeping the mouse across the page
  // does not start reading every paragraph it crosses.
  const DWELL_MS = 600;
  // The user scrolled by hand less than this long ago: do not yank the page back.
  const MANUAL_SCROLL_GRACE_MS = 4_000;
  // Three <audio> elements: the one playing and the next two loading.
  const POOL_SIZE = 3;
  const RATES = [0.75, 1, 1.25, 1.5, 1.75, 2];
  // The pauses the text calls for, at 1x, in milliseconds (the bench measures against these).
  const PAUSE_MS = { sentence: 250, paragraph: 700, title: 900 };
  // This many sentences failing in a row means the service cannot speak: stop and say so.
  const MAX_SKIPS_IN_A_ROW = 3;
  // Rough speaking speed for time estimates until a clip's real duration is known.
  const MS_PER_CHAR = 230;

  const PREFS_KEY = "reader:prefs";
  const POSITION_KEY = "reader:position:";
  const DEFAULT_NAME = "小宝";
  const DEFAULT_GREETING = "我是“{name}” 点击我,为您语音播报";

  // Keyboard shortcuts are Alt+Shift+<key> (Option+Shift on a Mac). `code` is used for
  // letters because Alt+Shift changes `key` on some layouts (and on every Mac).
  const SHORTCUTS = {
    KeyP: "toggle", ArrowRight: "next", ArrowLeft: "previous", KeyR: "repeat",
    ArrowUp: "faster", ArrowDown: "slower", KeyC: "captions", KeyZ: "pointRead",
    KeyF: "autoscroll", KeyV: "voice", KeyO: "panel", KeyH: "help",
  };
  const SHORTCUT_HELP = [
    ["P", "播放 / 暂停"], ["→", "下一句"], ["←", "上一句"], ["R", "重读本句"],
    ["↑", "加快语速"], ["↓", "放慢语速"], ["C", "大字幕 开/关"], ["Z", "指读 开/关"],
    ["F", "自动滚动 开/关"], ["V", "选择声音"], ["O", "打开 / 关闭播报面板"],
    ["H", "显示 / 隐藏快捷键"],
  ];

  // Never walked for article text: code, form controls, media, and the widget itself.
  const SKIPPED_TAGS = new Set([
    "script", "style", "noscript", "template", "textarea", "select", "button", "input",
    "svg", "math", "canvas", "iframe", "object", "embed", "audio", "video", "img", "picture",
    "reader-widget", "reader-captions",
  ]);
  // Clicking these keeps its usual meaning instead of reading from the sentence.
  const INTERACTIVE = "a, button, input, select, textarea, label, summary, [contenteditable]";

  // ------------------------------------------------------------------ small helpers

  const storage = {
    get(key) {
      try { return JSON.parse(localStorage.getItem(key)) ?? null; } catch { return null; }
    },
    set(key, value) {
      // Storage may be off or full: remembering is a nicety, never a failure.
      try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* ignored */ }
    },
    remove(key) {
      try { localStorage.removeItem(key); } catch { /* ignored */ }
    },
  };

  const clamp = (value, low, high) => Math.min(high, Math.max(low, value));
  const reducedMotion = () => matchMedia("(prefers-reduced-motion: reduce)").matches;
  const nearestRate = (rate) =>
    RATES.reduce((best, r) => (Math.abs(r - rate) < Math.abs(best - rate) ? r : best), 1);

  function clock(ms) {
    const seconds = Math.max(0, Math.round(ms / 1000));
    const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
    return `${mm}:${String(seconds % 60).padStart(2, "0")}`;
  }

  /** The pause after segment `a` when `b` follows, at 1x. */
  function pauseBetween(a, b) {
    if (a.kind === "title" && b.kind !== "title") return PAUSE_MS.title;
    if (a.paragraph !== b.paragraph) return PAUSE_MS.paragraph;
    return PAUSE_MS.sentence;
  }

  /** The article element: the configured selector, else the page's main content. */
  function findContent(selector) {
    if (selector) {
      try {
        const found = document.querySelector(selector);
        if (found) return found;
      } catch { /* an invalid selector: detect instead */ }
    }
    for (const candidate of ["article", "[role=main]", "main"]) {
      const found = document.querySelector(candidate);
      if (found?.textContent.trim()) return found;
    }
    // The element whose paragraphs hold the most text (how readability-style detectors
    // start): navigation and footers have many links but little running text.
    const totals = new Map();
    for (const p of document.querySelectorAll("p")) {
      const parent = p.parentElement;
      totals.set(parent, (totals.get(parent) ?? 0) + p.textContent.trim().length);
    }
    let best = document.body;
    let most = 0;
    for (const [element, total] of totals) {
      if (total > most) [best, most] = [element, total];
    }
    return best;
  }

  function caretAt(x, y) {
    if (document.caretPositionFromPoint) {
      const pos = document.caretPositionFromPoint(x, y);
      return pos && { node: pos.offsetNode, offset: pos.offset };
    }
    const range = document.caretRangeFromPoint?.(x, y);
    return range && { node: range.startContainer, offset: range.startOffset };
  }

  // ------------------------------------------------------------------ article text

  /**
   * The text of an element as the service should read it, with a map back to the DOM.
   *
   * Text nodes are walked in document order; white space collapses as CSS collapses it,
   * block elements and <br> become line breaks, hidden and non-text elements are skipped.
   * `runs` record, per text node, where its characters landed in `text` and which node
   * offset each came from, so a segment's [start, end) becomes a DOM Range and a click's
   * caret position becomes a text offset.
   */
  class ArticleText {
    constructor(root) {
      this.root = root;
      this.runs = [];
      this.byNode = new Map();
      this.text = this.#build(root);
    }

    #build(root) {
      const chunks = [];
      let length = 0;
      let lineStart = true; // nothing on the current line yet
      let lastSpace = false;
      let pendingBreak = false;

      const lineBreak = () => { if (!lineStart) pendingBreak = true; };
      const addText = (node, block) => {
        const data = node.data;
        const offsets = [];
        const chars = [];
        let start = -1;
        for (let k = 0; k < data.length; k++) {
          const ch = data[k];
          if (ch === " " || ch === "\n" || ch === "\t" || ch === "\r" || ch === "\f") {
            if (lineStart || lastSpace || pendingBreak) continue;
            chars.push(" ");
            offsets.push(k);
            lastSpace = true;
            continue;
          }
          if (pendingBreak) { // only ever before this node's first character
            chunks.push("\n");
            length += 1;
            pendingBreak = false;
          }
          if (start < 0) start = length;
          chars.push(ch);
          offsets.push(k);
          lineStart = false;
          lastSpace = false;
        }
        if (!chars.length) return;
        if (start < 0) start = length;
        offsets.push(offsets[offsets.length - 1] + 1); // the end position of the last char
        const run = { start, end: start + chars.length, node, block,
                      offsets: Uint32Array.from(offsets) };
        chunks.push(chars.join(""));
        length += chars.length;
        this.runs.push(run);
        this.byNode.set(node, run);
      };
      const visit = (parent, block) => {
        for (let child = parent.firstChild; child; child = child.nextSibling) {
          if (child.nodeType === Node.TEXT_NODE) {
            addText(child, block);
          } else if (child.nodeType === Node.ELEMENT_NODE) {
            if (child.localName === "br") { lineBreak(); continue; }
            const style = getComputedStyle(child);
            if (ArticleText.skipped(child, style)) continue;
            const isBlock = !style.display.startsWith("inline") && style.display !== "contents";
            if (isBlock) lineBreak();
            visit(child, isBlock ? child : block);
            if (isBlock) lineBreak();
          }
        }
      };
      visit(root, root);
      return chunks.join("");
    }

    static skipped(element, style) {
      return SKIPPED_TAGS.has(element.localName) || element.hidden
        || element.getAttribute("aria-hidden") === "true"
        || element.hasAttribute("data-reader-skip")
        || style.display === "none" || style.visibility === "hidden";
    }

    /** Index of the last run starting at or before `pos` (-1 if none). */
    #runBefore(pos) {
      let low = 0;
      let high = this.runs.length - 1;
      let found = -1;
      while (low <= high) {
        const mid = (low + high) >> 1;
        if (this.runs[mid].start <= pos) { found = mid; low = mid + 1; } else { high = mid - 1; }
      }
      return found;
    }

    /** A DOM Range over text offsets [start, end), or null if they are not in the DOM. */
    rangeFor(start, end) {
      let first = this.runs[Math.max(0, this.#runBefore(start))];
      let from = start;
      if (!first) return null;
      if (from >= first.end) { // on a line break: begin with the next run
        first = this.runs[this.runs.indexOf(first) + 1];
        if (!first) return null;
        from = first.start;
      }
      from = Math.max(from, first.start);
      const last = this.runs[this.#runBefore(end - 1)];
      if (!last || last.start >= end || from >= end) return null;
      const to = Math.min(end, last.end);
      const range = document.createRange();
      try {
        range.setStart(first.node, first.offsets[from - first.start]);
        range.setEnd(last.node, last.offsets[to - last.start]);
      } catch { // the page changed these nodes since they were read
        return null;
      }
      return range;
    }

    /** The text offset of a DOM position inside a walked text node, else null. */
    offsetOf(node, offset) {
      const run = this.byNode.get(node);
      if (!run) return null;
      const index = run.offsets.findIndex((o) => o >= offset);
      return run.start + (index < 0 ? run.end - run.start : index);
    }

    /** The block element holding text offset `pos`. */
    blockAt(pos) {
      return this.runs[this.#runBefore(pos)]?.block ?? null;
    }
  }

  // ------------------------------------------------------------------ the service

  class ServiceError extends Error {
    constructor(kind, message, status = 0) {
      super(message);
      this.name = "ServiceError";
      this.kind = kind; // "network" | "timeout" | "http" | "content"
      this.status = status;
    }
  }

  /** The reader service's HTTP API (README, "The HTTP API"). */
  class Api {
    constructor(base) {
      this.base = base.endsWith("/") ? base : `${base}/`;
    }

    /** A service path ("/api/v1/...", as manifests give them) as an absolute URL. */
    url(path) {
      return new URL(path.replace(/^\//, ""), this.base).href;
    }

    async #json(path, init = {}) {
      let response;
      try {
        response = await fetch(this.url(path),
                               { ...init, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      } catch (error) {
        const timeout = error.name === "TimeoutError";
        throw new ServiceError(timeout ? "timeout" : "network", error.message);
      }
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        throw new ServiceError("http", body?.detail ?? response.statusText, response.status);
      }
      return body;
    }

    register({ text, title, voice }) {
      return this.#json("/api/v1/articles", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text, title: title || undefined, voice: voice || undefined }),
      });
    }

    voices() {
      return this.#json("/api/v1/voices");
    }

    /** Whether the service answers at all (tells a dead network from one bad clip). */
    async reachable() {
      try {
        const response = await fetch(this.url("/healthz"), {
          cache: "no-store", signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
        return response.ok;
      } catch {
        return false;
      }
    }
  }

  /** What to tell a person about a failed request. */
  function describe(error) {
    if (error.kind === "content") return error.message;
    if (error.kind === "network" || error.kind === "timeout") {
      return "暂时无法连接朗读服务，请检查网络后重试。";
    }
    if (error.status === 429) return "请求太频繁了，请稍等片刻再试。";
    if (error.status === 503) return "朗读引擎暂时不可用，请稍后重试。";
    if (error.status === 413 || error.status === 422) return "这篇文章暂时无法朗读。";
    return "朗读服务出错了，请稍后重试。";
  }

  // ------------------------------------------------------------------ the player

  // Streaming through Media Source Extensions: a clip plays from its first MP3 frames, while
  // a plain src makes Chromium probe a large part of a streamed clip first (about 300 ms
  // more on a clip still being synthesised). A plain src where MSE cannot play MP3
  // (iPhone Safari).
  const CAN_STREAM = typeof MediaSource === "function" && MediaSource.isTypeSupported("audio/mpeg");

  /** Append one chunk and wait until the buffer has taken it. */
  function append(buffer, chunk, signal) {
    return new Promise((resolve, reject) => {
      signal.throwIfAborted();
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      buffer.addEventListener("updateend", resolve, { once: true });
      buffer.addEventListener("error", () => reject(new Error("append failed")), { once: true });
      buffer.appendBuffer(chunk);
    });
  }

  /** Feed a clip into an <audio> element as its bytes arrive. Resolves when all are in;
   *  rejects if the request or the data fails (not when `signal` aborts it). */
  function streamInto(audio, url, signal) {
    const source = new MediaSource();
    const objectUrl = URL.createObjectURL(source);
    audio.src = objectUrl;
    return new Promise((resolve, reject) => {
      source.addEventListener("sourceopen", async () => {
        URL.revokeObjectURL(objectUrl); // attached: the URL is no longer needed
        try {
          const buffer = source.addSourceBuffer("audio/mpeg");
          const response = await fetch(url, { signal });
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const reader = response.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            await append(buffer, value, signal);
          }
          if (source.readyState === "open") source.endOfStream();
          resolve();
        } catch (error) {
          if (!signal.aborted) reject(error);
        }
      }, { once: true });
    });
  }

  /**
   * Plays segments back to back through a small pool of <audio> elements: the current
   * clip plays while the next two load, and the next starts as soon as one ends, after
   * the pause the text calls for. Events: "segment", "state", "playing", "time",
   * "duration", "end", "paragraphend", "failure", "blocked".
   */
  class Player extends EventTarget {
    #pool;
    #segments = [];
    #resolve;
    #index = -1;
    #state = "idle";
    #rate = 1;
    #wanted = false; // the listener wants sound (playing, or loading to play)
    #confirmed = false; // the current clip has actually started
    #stopAfter = -1; // point-to-read: the last segment of the paragraph
    #pending = -1; // the segment waiting out the pause
    #gapTimer = 0;
    #watchdog = 0;
    #streaming;
    #loads = new Map(); // <audio> -> {index, controller, failed}: the clip it holds

    constructor(container, resolve) {
      super();
      this.#resolve = resolve;
      this.#streaming = CAN_STREAM;
      this.#pool = Array.from({ length: POOL_SIZE }, (_, n) => this.#makeAudio(container, n));
    }

    get index() { return this.#index; }
    get state() { return this.#state; }
    get rate() { return this.#rate; }
    get wanted() { return this.#wanted; }
    get pool() { return [...this.#pool]; }
    /** Stream clips through MSE (where the browser can); off: plain src. */
    get streaming() { return this.#streaming; }
    set streaming(on) { this.#streaming = on && CAN_STREAM; }
    /** The <audio> element of the current segment. */
    get audio() { return this.#index >= 0 ? this.#slot(this.#index) : null; }

    #slot(i) { return this.#pool[i % POOL_SIZE]; }

    #makeAudio(container, n) {
      const audio = document.createElement("audio");
      audio.preload = "auto";
      audio.preservesPitch = true;
      audio.dataset.testid = `reader-audio-${n}`;
      const current = (handler) => () => {
        const i = Number(audio.dataset.index);
        if (i === this.#index && audio === this.#slot(i)) handler(i, audio);
      };
      audio.addEventListener("playing", current((i) => {
        this.#confirmed = true;
        clearTimeout(this.#watchdog);
        this.#setState("playing");
        this.#emit("playing", i);
      }));
      audio.addEventListener("waiting", current(() => {
        if (!this.#wanted) return;
        this.#confirmed = false;
        this.#setState("loading");
        this.#armWatchdog();
      }));
      audio.addEventListener("ended", current((i) => this.#ended(i)));
      audio.addEventListener("error", current((i) => this.#fail(i, "error")));
      audio.addEventListener("timeupdate", current(() => this.#emit("time")));
      audio.addEventListener("durationchange", () => {
        const i = Number(audio.dataset.index);
        // Streamed clips report Infinity until they are complete.
        if (i >= 0 && Number.isFinite(audio.duration)) {
          this.#emit("duration", { index: i, ms: audio.duration * 1000 });
        }
      });
      container.append(audio);
      return audio;
    }

    #emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    #setState(state) {
      if (state === this.#state) return;
      this.#state = state;
      this.#emit("state", state);
    }

    /** New segments (a new article or voice): stop, forget every loaded clip. */
    load(segments) {
      this.stop();
      this.#segments = segments;
      this.#index = -1;
      for (const audio of this.#pool) this.#empty(audio);
    }

    /** Whether `audio` holds segment `i`'s clip, loading or loaded, without a failure. */
    #holds(audio, i) {
      const load = this.#loads.get(audio);
      return load?.index === i && !load.failed && !audio.error;
    }

    /**
     * The element for segment `i`, its clip requested if it does not hold it yet.
     * `reload`: request it again (from the HTTP cache if it is there); `fresh`: past any
     * cached copy too (a retry must not get the browser's copy of a failed response);
     * `prefetch`: a clip that failed waits for its turn to be asked for again.
     */
    #assign(i, { fresh = false, reload = false, prefetch = false } = {}) {
      const audio = this.#slot(i);
      if (prefetch && this.#loads.get(audio)?.index === i) return audio;
      if (!fresh && !reload && this.#holds(audio, i)) return audio;
      let url = this.#resolve(this.#segments[i].audio);
      if (fresh) url += `${url.includes("?") ? "&" : "?"}retry=${Date.now()}`;
      this.#cancel(audio);
      const load = { index: i, controller: new AbortController(), failed: false };
      this.#loads.set(audio, load);
      audio.dataset.index = String(i);
      audio.dataset.clip = url; // the clip's address, for tests (src may be a blob: URL)
      if (this.#streaming) {
        streamInto(audio, url, load.controller.signal).catch(() => this.#lost(audio, load));
      } else {
        audio.src = url;
      }
      audio.defaultPlaybackRate = this.#rate; // loading resets playbackRate to this
      audio.playbackRate = this.#rate;
      return audio;
    }

    /** A streamed clip's request failed: a failure now if it is playing, else at its turn. */
    #lost(audio, load) {
      load.failed = true;
      if (this.#loads.get(audio) === load && load.index === this.#index) this.#fail(load.index, "network");
    }

    #cancel(audio) {
      this.#loads.get(audio)?.controller.abort();
      this.#loads.delete(audio);
    }

    #empty(audio) {
      this.#cancel(audio);
      delete audio.dataset.index;
      delete audio.dataset.clip;
      audio.removeAttribute("src");
      audio.load();
    }

    /** Load segment `i` and the one after it without playing (a prefetch). */
    prime(i) {
      for (const k of [i, i + 1]) {
        if (k >= 0 && k < this.#segments.length) this.#assign(k, { prefetch: true });
      }
    }

    /** Play segment `i` from its beginning; `stopAfter` ends play after that segment. */
    start(i, { stopAfter = -1, fresh = false } = {}) {
      if (i < 0 || i >= this.#segments.length) return;
      this.#clearTimers();
      for (const audio of this.#pool) if (!audio.paused) audio.pause();
      this.#index = i;
      this.#stopAfter = stopAfter;
      this.#wanted = true;
      this.#confirmed = false;
      const audio = this.#assign(i, { fresh });
      this.#rewind(audio, i);
      this.#play(audio, i); // first: the highlight, scrolling and the rest can wait
      this.#setState(audio.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA ? "playing" : "loading");
      this.#emit("segment", i);
      for (const k of [i + 1, i + 2]) {
        if (k < this.#segments.length) this.#assign(k, { prefetch: true });
      }
    }

    #rewind(audio, i) {
      if (audio.currentTime === 0 && !audio.ended) return;
      const seekable = audio.seekable.length && audio.seekable.start(0) === 0;
      if (seekable) audio.currentTime = 0; else this.#assign(i, { reload: true });
    }

    #play(audio, i) {
      this.#armWatchdog();
      audio.playbackRate = this.#rate;
      audio.play().catch((error) => {
        // AbortError: paused or moved on before it started. NotSupportedError: the
        // "error" event reports it. NotAllowedError: no user gesture yet (autoplay policy).
        if (error.name !== "NotAllowedError" || this.#index !== i) return;
        this.#wanted = false;
        this.#clearTimers();
        this.#setState("paused");
        this.#emit("blocked", i);
      });
    }

    pause() {
      if (!this.#wanted) return;
      this.#wanted = false;
      if (this.#pending >= 0) { // paused during the pause between two sentences
        this.#index = this.#pending;
        this.#emit("segment", this.#index);
      }
      this.#clearTimers();
      this.audio?.pause();
      this.#setState("paused");
    }

    resume() {
      const i = this.#index;
      if (i < 0) { this.start(0); return; }
      const audio = this.#slot(i);
      const midway = this.#holds(audio, i) && !audio.ended && audio.currentTime > 0;
      if (!midway) { this.start(i, { stopAfter: this.#stopAfter }); return; }
      this.#wanted = true;
      this.#confirmed = false;
      this.#setState(audio.readyState >= HTMLMediaElement.HAVE_FUTURE_DATA ? "playing" : "loading");
      this.#play(audio, i);
    }

    /** Stop everything; the index stays (to save the position, or to retry). */
    stop() {
      this.#wanted = false;
      this.#clearTimers();
      for (const audio of this.#pool) if (!audio.paused) audio.pause();
      this.#setState("idle");
    }

    setRate(rate) {
      this.#rate = rate;
      for (const audio of this.#pool) {
        audio.defaultPlaybackRate = rate;
        audio.playbackRate = rate;
      }
    }

    #ended(i) {
      clearTimeout(this.#watchdog);
      if (i === this.#stopAfter) { // point-to-read: the paragraph is done
        this.#stopAfter = -1;
        this.#wanted = false;
        if (i + 1 < this.#segments.length) this.#index = i + 1; // play continues after it
        this.#setState("paused");
        this.#emit("paragraphend", i);
        return;
      }
      const next = i + 1;
      if (next >= this.#segments.length) {
        this.#wanted = false;
        this.#setState("idle");
        this.#emit("end");
        return;
      }
      this.#pending = next;
      const pause = pauseBetween(this.#segments[i], this.#segments[next]) / this.#rate;
      this.#gapTimer = setTimeout(() => {
        this.#pending = -1;
        this.start(next, { stopAfter: this.#stopAfter });
      }, pause);
    }

    #fail(i, reason) {
      if (!this.#wanted) return; // a paused clip failing is retried when play resumes
      clearTimeout(this.#watchdog);
      this.#slot(i).pause();
      this.#emit("failure", { index: i, reason });
    }

    #armWatchdog() {
      clearTimeout(this.#watchdog);
      const i = this.#index;
      this.#watchdog = setTimeout(() => {
        if (this.#index === i && this.#wanted && !this.#confirmed) {
          this.#empty(this.#slot(i)); // stop waiting on a connection that hangs
          this.#fail(i, "timeout");
        }
      }, AUDIO_TIMEOUT_MS);
    }

    #clearTimers() {
      clearTimeout(this.#gapTimer);
      clearTimeout(this.#watchdog);
      this.#pending = -1;
    }
  }

  // ------------------------------------------------------------------ the highlight

  // Styles for the host page: the highlight pseudo-element cannot be styled from a shadow
  // root, and the fallback class lives on the page's own elements.
  const DOCUMENT_CSS = `
::highlight(reader-current) {
  background-color: var(--reader-highlight-bg, #ffe58a);
  color: var(--reader-highlight-color, #1a1a1a);
}
.reader-current-block {
  background-color: var(--reader-highlight-bg, #ffe58a) !important;
  color: var(--reader-highlight-color, #1a1a1a) !important;
}
.reader-point-mode .reader-point-target {
  outline: 2px dashed var(--reader-accent, #c4161c);
  outline-offset: 4px;
}
.reader-point-mode [data-reader-focusable]:focus-visible {
  outline: 3px solid var(--reader-focus-color, #1a5fb4);
  outline-offset: 4px;
}
@media (forced-colors: active) {
  ::highlight(reader-current) { background-color: Highlight; color: HighlightText; }
  .reader-current-block { outline: 3px solid Highlight; }
  .reader-point-mode .reader-point-target { outline-color: Highlight; }
}
@media print {
  reader-widget, reader-captions { display: none !important; }
}`;

  function injectDocumentStyles() {
    if (document.getElementById("reader-widget-styles")) return;
    const style = document.createElement("style");
    style.id = "reader-widget-styles";
    style.textContent = DOCUMENT_CSS;
    document.head.append(style);
  }

  /** Marks the sentence being read: the CSS Custom Highlight API, else a class. */
  class Highlighter {
    #block = null;

    constructor() {
      this.native = typeof Highlight === "function" && "highlights" in CSS;
      injectDocumentStyles();
    }

    show(range, block) {
      this.clear();
      if (this.native && range) {
        CSS.highlights.set("reader-current", new Highlight(range));
      } else if (block) {
        block.classList.add("reader-current-block");
        this.#block = block;
      }
    }

    clear() {
      if (this.native) CSS.highlights.delete("reader-current");
      this.#block?.classList.remove("reader-current-block");
      this.#block = null;
    }
  }

  // ------------------------------------------------------------------ <reader-captions>

  const CAPTIONS_CSS = `
:host {
  all: initial;
  display: block;
  position: fixed;
  inset: auto 0 0 0;
  z-index: calc(var(--reader-z-index, 2147483000) - 1);
  box-sizing: border-box;
  max-height: 40vh;
  overflow: auto;
  padding: .5em 1em;
  background: var(--reader-caption-bg, rgb(20 20 20 / .92));
  color: var(--reader-caption-color, #fff);
  border-top: 4px solid var(--reader-accent, #c4161c);
  font-family: var(--reader-font, system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif);
  font-size: var(--reader-caption-size, clamp(1.5rem, 3.2vw, 2.5rem));
  line-height: 1.45;
  text-align: center;
}
:host([hidden]) { display: none; }
p { margin: 0 auto; max-width: 50em; }
@media (forced-colors: active) {
  :host { background: Canvas; color: CanvasText; border-top: 3px solid CanvasText; }
}`;

  /** The large-caption bar: shows its `text` attribute in large type. */
  class ReaderCaptions extends HTMLElement {
    static tag = "reader-captions";

    static define(tag = this.tag) {
      if (!customElements.get(tag)) customElements.define(tag, this);
      return customElements.get(tag);
    }

    static get observedAttributes() { return ["text"]; }

    #line;

    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>${CAPTIONS_CSS}</style><p part="text" data-testid="reader-caption-text"></p>`;
      this.#line = root.querySelector("p");
    }

    connectedCallback() {
      // A landmark, so the bar is found and skipped easily; not a live region: the
      // sentence is already being spoken.
      if (!this.hasAttribute("role")) this.setAttribute("role", "region");
      if (!this.hasAttribute("aria-label")) this.setAttribute("aria-label", "大字幕");
    }

    attributeChangedCallback(_name, _old, value) {
      this.#line.textContent = value ?? "";
    }

    get text() { return this.getAttribute("text") ?? ""; }
    set text(value) { this.setAttribute("text", value); }
  }

  // ------------------------------------------------------------------ <reader-widget>

  const icon = (path, extra = "") =>
    `<svg class="icon${extra}" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="${path}"/></svg>`;
  const ICONS = {
    play: icon("M8 5v14l11-7z"),
    pause: icon("M6 5h4v14H6zm8 0h4v14h-4z"),
    loading: icon("M12 4a8 8 0 1 0 8 8h-2.5A5.5 5.5 0 1 1 12 6.5z", " spin"),
    prev: icon("M6 6h2v12H6zm3.5 6 8.5 6V6z"),
    next: icon("M16 6h2v12h-2zM6 18l8.5-6L6 6z"),
    repeat: icon("M12 5V1L7 6l5 5V7a5 5 0 1 1-5 5H5a7 7 0 1 0 7-7z"),
    close: icon("M19 6.4 17.6 5 12 10.6 6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12z"),
    captions: icon("M19 4H5a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm-8 7H9.5v-.5h-2v3h2V13H11v1a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1zm7 0h-1.5v-.5h-2v3h2V13H18v1a1 1 0 0 1-1 1h-3a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1z"),
    point: icon("M9 11.2V7.5a2.5 2.5 0 0 1 5 0v3.7a4.5 4.5 0 1 0-5 0zm9.8 4.7-4.5-2.3a1.3 1.3 0 0 0-.5-.1H13v-6a1.5 1.5 0 0 0-3 0v10.7l-3.4-.7h-.3c-.3 0-.6.1-.8.3l-.8.8 5 4.9c.3.3.6.5 1 .5h6.8c.8 0 1.3-.6 1.4-1.3l.8-5.3v-.2c0-.6-.4-1.2-.9-1.4z"),
    scroll: icon("M12 20.5 6 14.5l1.4-1.4 4.6 4.6 4.6-4.6 1.4 1.4zm0-7L6 7.5l1.4-1.4 4.6 4.6 4.6-4.6L18 7.5z"),
  };

  // The mascot: a round face with headphones, in the accent colour.
  const MASCOT_SVG = `
<svg viewBox="0 0 64 64" aria-hidden="true" focusable="false">
  <circle class="m-body" cx="32" cy="35" r="25"/>
  <ellipse class="m-face" cx="32" cy="37" rx="17" ry="14.5"/>
  <circle class="m-eye" cx="25.5" cy="35" r="2.6"/><circle class="m-eye" cx="38.5" cy="35" r="2.6"/>
  <path class="m-mouth" d="M27 42q5 4.5 10 0"/>
  <path class="m-band" d="M9.5 35a22.5 22.5 0 0 1 45 0"/>
  <rect class="m-cup" x="4" y="30" width="9" height="14" rx="4.5"/>
  <rect class="m-cup" x="51" y="30" width="9" height="14" rx="4.5"/>
  <g class="m-waves"><path d="M61 24q3 4 0 8"/><path d="M3 24q-3 4 0 8"/></g>
</svg>`;

  const WIDGET_CSS = `
:host {
  all: initial;
  display: block;
  position: fixed;
  z-index: var(--reader-z-index, 2147483000);
  right: var(--reader-offset-x, 1.25rem);
  bottom: calc(var(--reader-offset-y, 1.25rem) + var(--_caption-space, 0px));
  max-width: calc(100vw - 2 * var(--reader-offset-x, 1.25rem));
  font-family: var(--reader-font, system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif);
  font-size: 1rem;
  line-height: 1.5;
  color: var(--reader-text, #1f1f1f);
  --_accent: var(--reader-accent, #c4161c);
  --_on-accent: var(--reader-on-accent, #fff);
  --_surface: var(--reader-surface, #fff);
  --_muted: var(--reader-muted, #555);
  --_border: var(--reader-border, #c8c8c8);
  --_button: var(--reader-button-bg, #f3f3f3);
  --_focus: var(--reader-focus-color, #1a5fb4);
  --_radius: var(--reader-radius, 12px);
  --_shadow: var(--reader-shadow, 0 6px 24px rgb(0 0 0 / .2));
}
:host([position=left]) { right: auto; left: var(--reader-offset-x, 1.25rem); }
* { box-sizing: border-box; }
.dock { display: flex; flex-direction: column; align-items: flex-end; gap: .75rem; }
:host([position=left]) .dock { align-items: flex-start; }
button, select { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
.sr-only {
  position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0;
  overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}

/* the mascot button and its speech bubble */
.mascot {
  display: flex; flex-direction: row-reverse; align-items: center; gap: .5rem;
  padding: 0; border: 0; border-radius: 2rem; background: none; text-align: start;
}
:host([position=left]) .mascot { flex-direction: row; }
.avatar { flex: none; width: 4rem; height: 4rem; filter: drop-shadow(0 3px 6px rgb(0 0 0 / .25)); }
.avatar svg { display: block; width: 100%; height: 100%; }
.m-body, .m-cup { fill: var(--_accent); }
.m-face { fill: #fff; }
.m-eye { fill: #222; }
.m-mouth, .m-band, .m-waves path { fill: none; stroke-linecap: round; }
.m-mouth { stroke: #222; stroke-width: 2.4; }
.m-band { stroke: #333; stroke-width: 3.5; }
.m-waves path { stroke: var(--_accent); stroke-width: 2.5; }
.m-waves { opacity: 0; }
:host([state=playing]) .m-waves { opacity: 1; }
.bubble {
  position: relative; max-width: 12em; padding: .45rem .8rem; border: 2px solid var(--_accent); border-radius: 1rem;
  background: var(--_surface); color: var(--reader-text, #1f1f1f); box-shadow: var(--_shadow);
  font-size: .9375rem; line-height: 1.4;
}
.bubble span { display: block; }
.bubble::after { /* the tail, pointing at the mascot */
  content: ""; position: absolute; top: 50%; right: -.55rem; width: .8rem; height: .8rem;
  background: inherit; border: solid var(--_accent); border-width: 2px 2px 0 0;
  transform: translateY(-50%) rotate(45deg);
}
:host([position=left]) .bubble::after { right: auto; left: -.55rem; transform: translateY(-50%) rotate(-135deg); }
.mascot:hover .bubble { background: var(--reader-bubble-hover-bg, #fff4f4); }

/* the panel */
.panel {
  width: min(23rem, calc(100vw - 2 * var(--reader-offset-x, 1.25rem)));
  max-height: calc(100vh - 6.5rem - var(--reader-offset-y, 1.25rem) - var(--_caption-space, 0px));
  overflow: auto; padding: .75rem 1rem 1rem;
  background: var(--_surface); border: 1px solid var(--_border);
  border-top: 4px solid var(--_accent); border-radius: var(--_radius); box-shadow: var(--_shadow);
}
.panel[hidden], .notice[hidden], .offer[hidden], .keys[hidden] { display: none; }
.head { display: flex; align-items: center; gap: .5rem; }
.heading { flex: 1; margin: 0; font-weight: 700; color: var(--_accent); }
.close {
  display: grid; place-items: center; width: 2.75rem; height: 2.75rem; padding: 0;
  border: 1px solid transparent; border-radius: 50%; background: none;
}
.close:hover { background: var(--_button); }
.article {
  margin: .25rem 0 .5rem; color: var(--_muted); font-size: .875rem;
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;
}
.icon { width: 1.5rem; height: 1.5rem; fill: currentColor; flex: none; }
.transport { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: .5rem; margin: .5rem 0; }
.transport button, .toggles button, .row button {
  display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .1rem;
  min-height: 3rem; padding: .35rem .25rem; border: 1px solid var(--_border); border-radius: .6rem;
  background: var(--_button); font-size: .8125rem; line-height: 1.25;
}
.transport button:hover, .toggles button:hover, .row button:hover { border-color: var(--_accent); }
.transport .primary { background: var(--_accent); border-color: var(--_accent); color: var(--_on-accent); }
.progress p { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .25rem 1rem; margin: .25rem 0 0; font-size: .875rem; color: var(--_muted); }
.bar { height: .375rem; border-radius: 1rem; background: #e4e4e4; overflow: hidden; }
.bar span { display: block; height: 100%; width: 0; background: var(--_accent); }
.settings { display: flex; flex-wrap: wrap; gap: .5rem 1rem; margin: .75rem 0; }
.settings label { display: flex; align-items: center; gap: .4rem; font-size: .875rem; max-width: 100%; }
select {
  min-height: 2.75rem; max-width: 100%; padding: .25rem .4rem; border: 1px solid #767676;
  border-radius: .4rem; background: var(--_surface);
}
.toggles { display: flex; flex-wrap: wrap; gap: .5rem; }
.toggles button { flex: 1 1 5.5rem; flex-direction: row; gap: .3rem; font-size: .875rem; }
.toggles button[aria-pressed=true] { background: var(--_accent); border-color: var(--_accent); color: var(--_on-accent); }
.tip { margin: .75rem 0 .25rem; font-size: .8125rem; color: var(--_muted); }
.link {
  min-height: 2.75rem; margin-top: .25rem; padding: .25rem 0; border: 0; background: none;
  color: var(--_focus); text-decoration: underline; font-size: .875rem;
}
.keys { display: grid; grid-template-columns: auto 1fr; gap: .2rem .75rem; margin: .5rem 0 0; font-size: .8125rem; }
.keys dt { white-space: nowrap; }
.keys dd { margin: 0; }
kbd { font: inherit; font-size: .75rem; padding: 0 .3rem; border: 1px solid var(--_border); border-radius: .25rem; background: var(--_button); }
.notice, .offer { margin: .5rem 0; padding: .5rem .75rem; border-radius: .5rem; font-size: .875rem; }
.notice { border-left: 4px solid #b3261e; background: #fdecea; color: #5c1510; }
.offer { border-left: 4px solid var(--_accent); background: var(--_button); }
.notice p, .offer p { margin: 0 0 .4rem; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; }
.row button { flex: 1 1 6rem; min-height: 2.75rem; flex-direction: row; }
.notice button { background: #fff; }

@media (prefers-reduced-motion: no-preference) {
  .spin { animation: spin 1s linear infinite; }
  :host([state=playing]) .avatar svg { animation: bob 1.8s ease-in-out infinite; }
  .bubble { transition: background .2s; }
}
@keyframes spin { to { transform: rotate(1turn); } }
@keyframes bob { 50% { transform: translateY(-3px); } }

@media (forced-colors: active) {
  .panel, .bubble { border: 2px solid CanvasText; }
  .bubble::after { border-color: CanvasText; }
  .transport button, .toggles button, .row button, .close, .link, select { border: 1px solid ButtonText; }
  .toggles button[aria-pressed=true] {
    forced-color-adjust: none; background: Highlight; color: HighlightText; border-color: Highlight;
  }
  .transport .primary { border: 2px solid ButtonText; }
  .bar { border: 1px solid CanvasText; }
  .bar span { forced-color-adjust: none; background: Highlight; }
  .notice, .offer { border: 1px solid CanvasText; }
}
@media print { :host { display: none; } }`;

  const WIDGET_HTML = `
<aside class="dock" part="dock" aria-labelledby="dock-label">
  <span id="dock-label" class="sr-only" data-ref="dockLabel"></span>
  <div class="panel" id="panel" part="panel" data-ref="panel" data-testid="reader-panel" hidden>
    <div class="head">
      <p class="heading" data-ref="heading"></p>
      <button type="button" class="close" data-ref="close" data-testid="reader-close"
              aria-label="关闭语音播报" aria-keyshortcuts="Escape">${ICONS.close}</button>
    </div>
    <p class="article" data-ref="article" data-testid="reader-article-title"></p>
    <div class="notice" data-ref="notice" data-testid="reader-error" hidden>
      <p data-ref="noticeText"></p>
      <div class="row"><button type="button" data-ref="retry" data-testid="reader-retry">重试</button></div>
    </div>
    <div class="offer" data-ref="offer" data-testid="reader-resume-offer" hidden>
      <p data-ref="offerText"></p>
      <div class="row">
        <button type="button" data-ref="resume" data-testid="reader-resume">继续收听</button>
        <button type="button" data-ref="restart" data-testid="reader-restart">从头播放</button>
      </div>
    </div>
    <div class="transport" role="group" aria-label="播放控制">
      <button type="button" data-ref="prev" data-testid="reader-prev"
              aria-keyshortcuts="Alt+Shift+ArrowLeft">${ICONS.prev}<span>上一句</span></button>
      <button type="button" class="primary" data-ref="play" data-testid="reader-play"
              aria-keyshortcuts="Alt+Shift+P"><span data-ref="playIcon">${ICONS.play}</span><span data-ref="playLabel">播放</span></button>
      <button type="button" data-ref="next" data-testid="reader-next"
              aria-keyshortcuts="Alt+Shift+ArrowRight">${ICONS.next}<span>下一句</span></button>
      <button type="button" data-ref="repeat" data-testid="reader-repeat"
              aria-keyshortcuts="Alt+Shift+R">${ICONS.repeat}<span>重读本句</span></button>
    </div>
    <div class="progress" data-testid="reader-progress">
      <div class="bar" aria-hidden="true"><span data-ref="bar"></span></div>
      <p><span data-ref="count" data-testid="reader-count"></span><span data-ref="time" data-testid="reader-time"></span></p>
    </div>
    <div class="settings">
      <label>语速 <select data-ref="rate" data-testid="reader-rate"
              aria-keyshortcuts="Alt+Shift+ArrowUp Alt+Shift+ArrowDown"></select></label>
      <label>声音 <select data-ref="voice" data-testid="reader-voice"
              aria-keyshortcuts="Alt+Shift+V"><option value="">默认声音</option></select></label>
    </div>
    <div class="toggles" role="group" aria-label="阅读辅助">
      <button type="button" data-ref="captions" data-testid="reader-captions-toggle" aria-pressed="false"
              aria-keyshortcuts="Alt+Shift+C">${ICONS.captions}<span>大字幕</span></button>
      <button type="button" data-ref="point" data-testid="reader-point-toggle" aria-pressed="false"
              aria-keyshortcuts="Alt+Shift+Z">${ICONS.point}<span>指读</span></button>
      <button type="button" data-ref="scroll" data-testid="reader-scroll-toggle" aria-pressed="true"
              aria-keyshortcuts="Alt+Shift+F">${ICONS.scroll}<span>自动滚动</span></button>
    </div>
    <p class="tip">点击文中任意句子，从那里开始朗读。指读：鼠标停在或键盘聚焦某段，朗读该段。</p>
    <button type="button" class="link" data-ref="help" data-testid="reader-shortcuts-toggle"
            aria-expanded="false" aria-controls="keys" aria-keyshortcuts="Alt+Shift+H">键盘快捷键</button>
    <dl class="keys" id="keys" data-ref="keys" hidden>
      ${SHORTCUT_HELP.map(([key, what]) => `<dt><kbd>Alt</kbd>+<kbd>Shift</kbd>+<kbd>${key}</kbd></dt><dd>${what}</dd>`).join("")}
      <dt><kbd>Esc</kbd></dt><dd>关闭面板（焦点在面板内时）</dd>
    </dl>
  </div>
  <button type="button" class="mascot" part="mascot" data-ref="mascot" data-testid="reader-mascot"
          aria-expanded="false" aria-controls="panel" aria-keyshortcuts="Alt+Shift+O">
    <span class="avatar">${MASCOT_SVG}</span>
    <span class="bubble" data-ref="bubble"></span>
  </button>
  <p class="sr-only" role="status" data-ref="status" data-testid="reader-live"></p>
  <p class="sr-only" role="alert" data-ref="alert" data-testid="reader-alert"></p>
  <div data-ref="pool" hidden></div>
</aside>`;

  /**
   * The voice-broadcast assistant. Attributes in: service, content, name, greeting, color,
   * position, voice, article-title, captions, point-read, autoscroll. Reflected out: state,
   * open, current-index, rate. Events out: reader-* (see docs/widget.md).
   */
  class ReaderWidget extends HTMLElement {
    static tag = "reader-widget";

    static define(tag = this.tag) {
      ReaderCaptions.define();
      if (!customElements.get(tag)) customElements.define(tag, this);
      return customElements.get(tag);
    }

    static get observedAttributes() {
      return ["service", "content", "name", "greeting", "color", "position", "voice",
              "article-title", "captions", "point-read", "autoscroll", "stream"];
    }

    #ui = {};
    #api;
    #player;
    #highlighter;
    #captionBar = null;
    #connection = null; // AbortController for listeners outside the shadow root
    #article = null; // ArticleText
    #manifest = null;
    #preparing = null; // the registration in flight or done, for #preparedVoice
    #preparedVoice = null;
    #registering = false;
    #spans = []; // per segment: {start, end} in #article.text, or null
    #blocks = []; // per segment: its block element
    #paragraphs = new Map(); // block element -> {first, last} segment indexes
    #durations = []; // per segment, ms at 1x: known or estimated
    #estimated = new Set();
    #error = null; // {kind, message, retry}
    #tries = new Map(); // segment index -> failed attempts
    #skips = 0;
    #lastState = "";
    #announceMove = false; // the next segment change was asked for: say it
    #scrolledAt = 0;
    #dwell = 0;
    #pointBlock = null;
    #focusables = new Set();
    #voices = null;
    #voicesLoading = false;
    #greeting = "";
    #collapseLabel = "";
    #finished = false; // read to the end: the next play starts from the top

    constructor() {
      super();
      const root = this.attachShadow({ mode: "open" });
      root.innerHTML = `<style>${WIDGET_CSS}</style>${WIDGET_HTML}`;
      for (const element of root.querySelectorAll("[data-ref]")) {
        this.#ui[element.dataset.ref] = element;
      }
      this.#player = new Player(this.#ui.pool, (path) => this.#api.url(path));
      this.#highlighter = new Highlighter();
      this.#ui.rate.append(...RATES.map((r) => new Option(r === 1 ? "1x 正常" : `${r}x`, String(r))));
      this.#wirePlayer();
      this.#wireControls();
    }

    // -------------------------------------------------------------- public surface

    /** "idle" | "loading" | "playing" | "paused" | "error" */
    get state() {
      if (this.#error) return "error";
      if (this.#registering) return "loading";
      return this.#player.state;
    }
    get currentIndex() { return this.#player.index; }
    get segments() { return this.#manifest?.segments ?? []; }
    get manifest() { return this.#manifest; }
    get rate() { return this.#player.rate; }
    get voice() { return this.getAttribute("voice") ?? ""; }
    get isOpen() { return this.hasAttribute("open"); }
    /** The <audio> element of the current segment (tests watch its currentTime). */
    get audio() { return this.#player.audio; }
    get articleText() { return this.#article?.text ?? ""; }

    /** Register the article (once per voice); resolves to the manifest. */
    prepare() {
      const voice = this.voice;
      if (this.#preparing && this.#preparedVoice === voice) return this.#preparing;
      this.#preparedVoice = voice;
      const attempt = this.#register(voice);
      this.#preparing = attempt;
      attempt.catch(() => { if (this.#preparing === attempt) this.#preparing = null; });
      return attempt;
    }

    /** Play from segment `index` (default: resume if paused, else the beginning). */
    async play(index) {
      if (index === undefined && this.#player.state === "paused" && !this.#error) {
        this.#player.resume();
        this.#emit("reader-play", { index: this.currentIndex });
        return;
      }
      this.open({ focus: false });
      const manifest = await this.#ready();
      if (!manifest || !this.isOpen) return; // failed, or closed while it loaded
      this.#startAt(index ?? 0);
    }

    pause() {
      if (!this.#player.wanted) return;
      this.#player.pause();
      this.#say("已暂停");
      this.#emit("reader-pause", { index: this.currentIndex });
    }

    toggle() {
      if (this.#player.wanted) { this.pause(); return; }
      if (!this.#ui.offer.hidden) { this.#startAt(this.#savedPosition()); return; }
      if (this.#player.state === "paused" && !this.#error) { this.play(); return; }
      this.#openAndPlay({ focus: false });
    }

    next() { this.#step(+1); }
    previous() { this.#step(-1); }

    repeat() {
      const i = this.currentIndex;
      if (i < 0) { this.play(); return; }
      this.#announceMove = true;
      this.#startAt(i);
    }

    setRate(rate) {
      const snapped = nearestRate(clamp(Number(rate) || 1, RATES[0], RATES.at(-1)));
      this.#player.setRate(snapped);
      this.#savePrefs({ rate: snapped });
      this.setAttribute("rate", String(snapped));
      this.#ui.rate.value = String(snapped);
      this.#renderTime();
      this.#emit("reader-ratechange", { rate: snapped });
      return snapped;
    }

    /** Read with another voice preset: the article is registered again with it. */
    setVoice(id) {
      this.#savePrefs({ voice: id });
      this.setAttribute("voice", id); // attributeChangedCallback does the rest
    }

    open({ focus = true } = {}) {
      if (this.isOpen) return;
      this.toggleAttribute("open", true);
      this.#ui.panel.hidden = false;
      this.#applyCaptions();
      this.#applyPointRead();
      this.#loadVoices();
      this.#render();
      if (focus) this.#ui.play.focus();
      this.#emit("reader-open");
    }

    /** Close the panel and stop reading (the position is remembered). */
    close() {
      if (!this.isOpen) return;
      const hadFocus = this.matches(":focus-within");
      this.#player.stop();
      this.#savePosition();
      this.#highlighter.clear();
      this.#clearError();
      this.#hideOffer();
      this.toggleAttribute("open", false);
      this.#ui.panel.hidden = true;
      this.#applyCaptions();
      this.#applyPointRead();
      this.#releaseMediaSession();
      this.#render();
      if (hadFocus) this.#ui.mascot.focus();
      this.#emit("reader-close");
    }

    toggleCaptions(force) { this.#toggleAttr("captions", force, "大字幕"); }
    togglePointRead(force) { this.#toggleAttr("point-read", force, "指读"); }
    toggleAutoscroll(force) {
      const on = force ?? this.getAttribute("autoscroll") === "off";
      this.setAttribute("autoscroll", on ? "on" : "off");
      this.#savePrefs({ autoscroll: on });
      this.#say(on ? "自动滚动已打开" : "自动滚动已关闭");
    }

    /** Try again after an error (the retry button does this). */
    retry() {
      const action = this.#error?.retry;
      this.#clearError();
      (action ?? (() => this.play()))();
    }

    // -------------------------------------------------------------- lifecycle

    connectedCallback() {
      this.#connection?.abort();
      this.#connection = new AbortController();
      this.#api = new Api(this.#serviceBase());
      this.#player.streaming = this.getAttribute("stream") !== "off";
      this.#applyPrefs();
      this.#renderLabels();
      this.#applyColor();
      this.#listenToPage(this.#connection.signal);
      this.#render();
    }

    disconnectedCallback() {
      this.#connection?.abort();
      this.#player.stop();
      this.#highlighter.clear();
      this.#setPointMode(false);
      this.#captionBar?.remove();
      this.#captionBar = null;
      this.#releaseMediaSession();
    }

    attributeChangedCallback(name, old, value) {
      if (old === value || !this.isConnected) return;
      switch (name) {
        case "name": case "greeting": this.#renderLabels(); break;
        case "color": this.#applyColor(); break;
        case "voice": this.#voiceChanged(); break;
        case "content": this.#forgetArticle(); break;
        case "service": this.#api = new Api(this.#serviceBase()); this.#forgetArticle(); break;
        case "article-title": this.#forgetArticle(); break;
        case "captions": this.#applyCaptions(); this.#render(); break;
        case "point-read": this.#applyPointRead(); this.#render(); break;
        case "autoscroll": this.#render(); break;
        case "stream": this.#player.streaming = value !== "off"; break;
        default: break;
      }
    }

    // -------------------------------------------------------------- setup

    #serviceBase() {
      const configured = this.getAttribute("service");
      if (configured) return new URL(configured, location.href).href;
      // The service is wherever this script came from.
      return OWN_SCRIPT?.src ? new URL(OWN_SCRIPT.src).origin : location.origin;
    }

    #applyPrefs() {
      // The reader's own choices win over the page's defaults.
      const prefs = storage.get(PREFS_KEY) ?? {};
      this.#player.setRate(nearestRate(prefs.rate ?? 1));
      this.#ui.rate.value = String(this.#player.rate);
      this.setAttribute("rate", String(this.#player.rate));
      if (prefs.voice) this.setAttribute("voice", prefs.voice);
      if (typeof prefs.captions === "boolean") this.toggleAttribute("captions", prefs.captions);
      if (typeof prefs.pointRead === "boolean") this.toggleAttribute("point-read", prefs.pointRead);
      if (typeof prefs.autoscroll === "boolean") {
        this.setAttribute("autoscroll", prefs.autoscroll ? "on" : "off");
      }
    }

    #savePrefs(change) {
      storage.set(PREFS_KEY, { ...(storage.get(PREFS_KEY) ?? {}), ...change });
    }

    #renderLabels() {
      const name = this.getAttribute("name") || DEFAULT_NAME;
      const greeting = (this.getAttribute("greeting") || DEFAULT_GREETING).replaceAll("{name}", name);
      this.#ui.dockLabel.textContent = `${name} 语音播报`;
      this.#ui.heading.textContent = `${name} · 语音播报`;
      this.#greeting = greeting;
      this.#collapseLabel = `收起${name}语音播报`;
      this.#renderMascot();
    }

    /** The accent colour, on the assistant and on the caption bar (outside it). */
    #applyColor() {
      const color = this.getAttribute("color");
      for (const element of [this, this.#captionBar]) {
        if (!element) continue;
        if (color) element.style.setProperty("--reader-accent", color);
        else element.style.removeProperty("--reader-accent");
      }
    }

    #wireControls() {
      const ui = this.#ui;
      const on = (element, handler) => element.addEventListener("click", handler);
      on(ui.mascot, () => (this.isOpen ? this.close() : this.#openAndPlay()));
      ui.mascot.addEventListener("pointerenter", () => this.#prefetch());
      ui.mascot.addEventListener("focus", () => this.#prefetch());
      on(ui.close, () => this.close());
      on(ui.play, () => this.toggle());
      on(ui.prev, () => this.previous());
      on(ui.next, () => this.next());
      on(ui.repeat, () => this.repeat());
      on(ui.retry, () => this.retry());
      on(ui.resume, () => this.#startAt(this.#savedPosition()));
      on(ui.restart, () => this.#startAt(0));
      on(ui.captions, () => this.toggleCaptions());
      on(ui.point, () => this.togglePointRead());
      on(ui.scroll, () => this.toggleAutoscroll());
      on(ui.help, () => this.#toggleHelp());
      ui.rate.addEventListener("change", () => {
        this.#say(`语速 ${this.setRate(ui.rate.value)} 倍`);
      });
      ui.voice.addEventListener("change", () => this.setVoice(ui.voice.value));
      ui.mascot.parentElement.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !event.isComposing && this.isOpen) {
          event.preventDefault();
          this.close();
        }
      });
    }

    #listenToPage(signal) {
      const options = { signal, capture: true };
      // Capture phase: the page's own handlers cannot swallow the shortcuts first.
      window.addEventListener("keydown", (event) => this.#onShortcut(event), options);
      const manual = () => { this.#scrolledAt = Date.now(); };
      window.addEventListener("wheel", manual, { signal, passive: true });
      window.addEventListener("touchmove", manual, { signal, passive: true });
      document.addEventListener("click", (event) => this.#onPageClick(event), { signal });
      document.addEventListener("pointerdown", () => this.#cancelDwell(), { signal });
      document.addEventListener("pointerover", (event) => this.#onPointerOver(event), { signal });
      document.addEventListener("focusin", (event) => this.#onFocusIn(event), { signal });
    }

    #wirePlayer() {
      const player = this.#player;
      const on = (type, handler) => player.addEventListener(type, (e) => handler(e.detail));
      on("segment", (i) => this.#onSegment(i));
      on("state", () => this.#render());
      on("time", () => this.#renderTime());
      on("playing", (i) => { this.#tries.delete(i); this.#skips = 0; });
      on("duration", ({ index, ms }) => {
        this.#durations[index] = ms;
        this.#estimated.delete(index);
      });
      on("end", () => this.#onEnd());
      on("paragraphend", () => { this.#highlighter.clear(); this.#render(); });
      on("failure", (failure) => this.#onFailure(failure));
      on("blocked", () => this.#say("请按“播放”按钮开始朗读。"));
    }

    // -------------------------------------------------------------- registration

    async #register(voice) {
      this.#article ??= this.#extract();
      const request = { text: this.#article.text, title: this.#title() };
      let manifest;
      try {
        manifest = await this.#api.register({ ...request, voice });
      } catch (error) {
        // A voice this service does not offer (remembered from elsewhere, or retired):
        // read with its default rather than not at all.
        if (!voice || error.status !== 404) throw error;
        this.#savePrefs({ voice: "" });
        manifest = await this.#api.register(request);
      }
      if (this.#preparedVoice === voice) this.#accept(manifest);
      return manifest;
    }

    #extract() {
      const article = new ArticleText(findContent(this.getAttribute("content")));
      if (!article.text.trim()) {
        throw new ServiceError("content", "这个页面上没有找到可以朗读的正文。");
      }
      return article;
    }

    /** The title to send: configured, else the article's own <h1>. */
    #title() {
      const configured = this.getAttribute("article-title");
      if (configured) return configured;
      const heading = this.#article.root.querySelector("h1");
      return heading?.textContent.replace(/\s+/g, " ").trim() || undefined;
    }

    #forgetArticle() {
      this.#article = null;
      this.#preparing = null;
    }

    /** Take a manifest: map its segments onto the page and load them into the player. */
    #accept(manifest) {
      this.#manifest = manifest;
      this.#mapSegments(manifest.segments);
      this.#player.load(manifest.segments);
      this.#durations = manifest.segments.map((s) => s.duration_ms
        ?? (s.text.length * MS_PER_CHAR));
      this.#estimated = new Set(manifest.segments.flatMap((s, i) => (s.duration_ms ? [] : [i])));
      this.#tries.clear();
      this.#ui.article.textContent = manifest.title ?? "";
      this.#applyPointRead();
      this.#loadVoices(); // again, if the list could not be had before
      this.#selectVoice();
      this.#render();
      this.#emit("reader-ready", { manifest });
    }

    /**
     * Segment offsets count in the text the service worked from: ours, unless it put a
     * title in front (when the title is not a line of the text). Each segment is checked
     * against our text and found again by its words if the offsets do not match.
     */
    #mapSegments(segments) {
      const text = this.#article.text;
      let shift = 0;
      let from = 0;
      this.#spans = segments.map((segment) => {
        let start = segment.start - shift;
        if (text.slice(start, start + segment.text.length) !== segment.text) {
          start = text.indexOf(segment.text, from);
          if (start < 0) return null; // not on the page (a title the service added)
          shift = segment.start - start;
        }
        from = start + segment.text.length;
        return { start, end: from };
      });
      this.#paragraphs.clear();
      this.#blocks = this.#spans.map((span, i) => {
        const block = span && this.#article.blockAt(span.start);
        if (block && block !== this.#article.root) {
          const known = this.#paragraphs.get(block);
          if (known) known.last = i; else this.#paragraphs.set(block, { first: i, last: i });
        }
        return block;
      });
    }

    /** Registration with the UI told: loading while it runs, an error if it fails. */
    async #ready() {
      this.#clearError();
      this.#registering = true;
      this.#render();
      try {
        return await this.prepare();
      } catch (error) {
        this.#showError(error.kind === "content" ? "content" : "service", describe(error),
                        () => this.play(), error);
        return null;
      } finally {
        this.#registering = false;
        this.#render();
      }
    }

    /** Hover or focus on the mascot: register now and load the first clip, so a click
     *  plays at once. Failures stay quiet here; the click reports them. */
    #prefetch() {
      if (this.isOpen) return;
      this.prepare()
        .then(() => this.#player.prime(Math.max(0, this.#savedPosition())))
        .catch(() => {});
    }

    async #voiceChanged() {
      if (!this.#manifest) return; // the next registration uses the new voice
      const index = Math.max(0, this.currentIndex);
      const wasPlaying = this.#player.wanted;
      this.#player.stop();
      this.#highlighter.clear();
      const manifest = await this.#ready();
      if (!manifest) return;
      const label = this.#voices?.find((v) => v.id === manifest.voice?.id)?.label
        ?? manifest.voice?.label ?? "";
      this.#say(`已切换为${label}`);
      this.#emit("reader-voicechange", { voice: manifest.voice });
      if (wasPlaying) this.#startAt(index);
      else this.#player.prime(index);
    }

    async #loadVoices() {
      if (this.#voices || this.#voicesLoading) return;
      this.#voicesLoading = true;
      try {
        this.#voices = await this.#api.voices();
      } catch {
        return; // the menu keeps the current voice; the next registration tries again
      } finally {
        this.#voicesLoading = false;
      }
      this.#ui.voice.replaceChildren(...this.#voices.map((v) => new Option(v.label, v.id)));
      this.#selectVoice();
    }

    #selectVoice() {
      const current = this.#manifest?.voice?.id || this.voice
        || this.#voices?.find((v) => v.default)?.id;
      if (!current) return;
      if (![...this.#ui.voice.options].some((o) => o.value === current)) {
        const label = this.#manifest?.voice?.label ?? current;
        this.#ui.voice.append(new Option(label, current));
      }
      this.#ui.voice.value = current;
    }

    // -------------------------------------------------------------- playing

    /** Open and read: where this visit stopped, else offer the saved position, else
     *  from the top. */
    async #openAndPlay({ focus = true } = {}) {
      this.open({ focus });
      const manifest = await this.#ready();
      if (!manifest || !this.isOpen) return; // failed, or closed while it loaded
      const saved = this.#savedPosition();
      if (saved > 0 && this.#player.index < 0) { this.#offerResume(saved); return; }
      this.#startAt(this.#finished ? 0 : Math.max(0, this.#player.index));
    }

    /** Start reading at segment `i` (the manifest is known). */
    #startAt(i, options = {}) {
      if (!this.#manifest) { this.play(i); return; }
      const last = this.segments.length - 1;
      if (last < 0) return;
      const index = clamp(i, 0, last);
      const wasSounding = this.#player.wanted;
      this.#clearError();
      this.#hideOffer();
      this.#finished = false;
      this.#player.start(index, options); // before the panel work: sound first
      this.open({ focus: false });
      this.#claimMediaSession();
      if (!wasSounding) this.#emit("reader-play", { index });
    }

    #step(delta) {
      if (!this.#manifest) { this.play(); return; }
      const from = this.currentIndex < 0 ? -1 : this.currentIndex;
      const i = clamp(from + delta, 0, this.segments.length - 1);
      this.#announceMove = true;
      this.#startAt(i);
    }

    #onSegment(i) {
      const segment = this.segments[i];
      const span = this.#spans[i];
      const range = span && this.#article.rangeFor(span.start, span.end);
      this.#highlighter.show(range, this.#blocks[i]);
      if (range && this.getAttribute("autoscroll") !== "off") this.#scrollTo(range);
      this.#captionBar?.setAttribute("text", segment.text);
      if (this.#announceMove) this.#say(`正在播放第 ${i + 1} 句`);
      this.#announceMove = false;
      this.#savePosition();
      this.#render();
      this.#emit("reader-segment", { index: i, total: this.segments.length, segment });
    }

    #onEnd() {
      this.#finished = true;
      this.#highlighter.clear();
      if (this.#manifest) storage.remove(POSITION_KEY + this.#manifest.id);
      this.#say("全文播报完毕");
      this.#render();
      this.#emit("reader-end", { total: this.segments.length });
    }

    /** A clip failed: retry once, then skip it if the service is up, else stop and say
     *  the network is down (retry then continues from this sentence). */
    async #onFailure({ index, reason }) {
      const tries = (this.#tries.get(index) ?? 0) + 1;
      this.#tries.set(index, tries);
      if (tries === 1) {
        this.#player.start(index, { fresh: true });
        return;
      }
      this.#player.stop();
      const reachable = navigator.onLine && await this.#api.reachable();
      if (this.currentIndex !== index || this.#player.wanted) return; // the reader moved on
      const resume = () => { this.#tries.delete(index); this.#startAt(index); };
      if (!reachable) {
        this.#showError("network", `网络连接中断，已停在第 ${index + 1} 句。恢复后点“重试”继续。`,
                        resume, { reason });
        return;
      }
      this.#skips += 1;
      if (this.#skips >= MAX_SKIPS_IN_A_ROW) {
        this.#showError("service", "朗读服务暂时无法合成语音，请稍后重试。", resume, { reason });
        return;
      }
      const next = index + 1;
      this.#say(`第 ${index + 1} 句暂时无法播放，已跳过。`, { alert: true });
      this.#emit("reader-skip", { index, reason });
      if (next < this.segments.length) this.#startAt(next); else this.#onEnd();
    }

    // -------------------------------------------------------------- in the page

    #scrollTo(range) {
      if (Date.now() - this.#scrolledAt < MANUAL_SCROLL_GRACE_MS) return;
      const rect = range.getBoundingClientRect();
      if (!rect.width && !rect.height) return;
      const covered = this.#captionBar?.offsetHeight ?? 0; // the caption bar hides the bottom
      const top = innerHeight * 0.15;
      const bottom = innerHeight - covered - innerHeight * 0.15;
      if (rect.top >= top && rect.bottom <= bottom) return;
      window.scrollBy({ top: rect.top - innerHeight * 0.3,
                        behavior: reducedMotion() ? "auto" : "smooth" });
    }

    #segmentAt(offset) {
      return this.#spans.findIndex((span) => span && span.start <= offset && offset < span.end);
    }

    /** Click a sentence to read from there (while the panel is open). */
    #onPageClick(event) {
      if (!this.isOpen || !this.#manifest || event.defaultPrevented || event.button !== 0) return;
      const target = event.target;
      if (!(target instanceof Element) || !this.#article.root.contains(target)) return;
      if (target.closest(INTERACTIVE) || !getSelection()?.isCollapsed) return;
      const caret = caretAt(event.clientX, event.clientY);
      const offset = caret && this.#article.offsetOf(caret.node, caret.offset);
      if (offset === null || offset === undefined) return;
      const i = this.#segmentAt(offset);
      if (i < 0) return;
      this.#cancelDwell();
      this.#announceMove = true;
      this.#startAt(i);
    }

    #blockOf(target) {
      if (!this.#article) return null;
      for (let el = target; el && el !== this.#article.root; el = el.parentElement) {
        if (this.#paragraphs.has(el)) return el;
      }
      return null;
    }

    #pointing() {
      return this.isOpen && this.hasAttribute("point-read") && this.#manifest;
    }

    #onPointerOver(event) {
      if (!this.#pointing() || !(event.target instanceof Element)) return;
      this.#aim(this.#blockOf(event.target));
    }

    #onFocusIn(event) {
      if (!this.#pointing()) return;
      const block = this.#blockOf(event.target);
      if (block && event.target === block) this.#aim(block);
    }

    /** 指读: after a short dwell on a paragraph, read that paragraph. */
    #aim(block) {
      if (block === this.#pointBlock) return;
      this.#cancelDwell();
      this.#pointBlock = block;
      if (!block) return;
      block.classList.add("reader-point-target");
      this.#dwell = setTimeout(() => {
        const paragraph = this.#paragraphs.get(block);
        if (!paragraph) return;
        const { first, last } = paragraph;
        const i = this.currentIndex;
        if (this.#player.wanted && i >= first && i <= last) return; // already reading it
        this.#announceMove = true;
        this.#startAt(first, { stopAfter: last });
      }, DWELL_MS);
    }

    #cancelDwell() {
      clearTimeout(this.#dwell);
      this.#pointBlock?.classList.remove("reader-point-target");
      this.#pointBlock = null;
    }

    #applyPointRead() {
      this.#setPointMode(this.isOpen && this.hasAttribute("point-read"));
    }

    /** Paragraphs become focusable in 指读 mode, so the keyboard can point too. */
    #setPointMode(on) {
      const root = this.#article?.root;
      root?.classList.toggle("reader-point-mode", on);
      if (on && root) {
        for (const block of this.#paragraphs.keys()) {
          if (block.hasAttribute("tabindex")) continue;
          block.setAttribute("tabindex", "0");
          block.setAttribute("data-reader-focusable", "");
          this.#focusables.add(block);
        }
        return;
      }
      this.#cancelDwell();
      for (const block of this.#focusables) {
        block.removeAttribute("tabindex");
        block.removeAttribute("data-reader-focusable");
      }
      this.#focusables.clear();
    }

    #applyCaptions() {
      const show = this.isOpen && this.hasAttribute("captions");
      if (show && !this.#captionBar) {
        this.#captionBar = document.createElement(ReaderCaptions.tag);
        this.#captionBar.setAttribute("data-testid", "reader-caption-bar");
        document.body.append(this.#captionBar);
        this.#applyColor();
        // Keep the assistant above the bar, however tall the caption grows.
        new ResizeObserver(([entry]) => {
          const height = entry.target.isConnected ? entry.borderBoxSize[0].blockSize : 0;
          this.style.setProperty("--_caption-space", `${height}px`);
        }).observe(this.#captionBar);
      }
      if (!this.#captionBar) return;
      this.#captionBar.hidden = !show;
      if (!show) this.style.removeProperty("--_caption-space");
      const segment = this.segments[this.currentIndex];
      this.#captionBar.setAttribute("text", segment?.text ?? this.#manifest?.title ?? "");
    }

    #toggleAttr(name, force, label) {
      const on = force ?? !this.hasAttribute(name);
      this.toggleAttribute(name, on);
      this.#savePrefs({ [name === "point-read" ? "pointRead" : name]: on });
      this.#say(`${label}已${on ? "打开" : "关闭"}`);
      if (on && !this.isOpen) this.open({ focus: false });
    }

    #toggleHelp(force) {
      const show = force ?? this.#ui.keys.hidden;
      this.#ui.keys.hidden = !show;
      this.#ui.help.setAttribute("aria-expanded", String(show));
    }

    // -------------------------------------------------------------- keyboard

    #onShortcut(event) {
      if (event.isComposing || !event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) {
        return;
      }
      const action = SHORTCUTS[event.code] ?? SHORTCUTS[event.key];
      if (!action) return;
      event.preventDefault();
      event.stopPropagation();
      const rateStep = (delta) => {
        const at = RATES.indexOf(this.rate);
        this.#say(`语速 ${this.setRate(RATES[clamp(at + delta, 0, RATES.length - 1)])} 倍`);
      };
      const actions = {
        toggle: () => this.toggle(),
        next: () => this.next(),
        previous: () => this.previous(),
        repeat: () => this.repeat(),
        faster: () => rateStep(+1),
        slower: () => rateStep(-1),
        captions: () => this.toggleCaptions(),
        pointRead: () => this.togglePointRead(),
        autoscroll: () => this.toggleAutoscroll(),
        voice: () => { this.open({ focus: false }); this.#ui.voice.focus(); },
        panel: () => (this.isOpen ? this.close() : this.open()),
        help: () => { this.open({ focus: false }); this.#toggleHelp(); this.#ui.help.focus(); },
      };
      actions[action]();
    }

    // -------------------------------------------------------------- resume

    #savedPosition() {
      const manifest = this.#manifest;
      const saved = manifest && storage.get(POSITION_KEY + manifest.id);
      const index = saved?.index ?? -1;
      return index > 0 && index < manifest.segments.length ? index : -1;
    }

    #savePosition() {
      const i = this.currentIndex;
      if (this.#manifest && i >= 0) {
        storage.set(POSITION_KEY + this.#manifest.id, { index: i, at: Date.now() });
      }
    }

    #offerResume(index) {
      this.#ui.offerText.textContent =
        `上次听到第 ${index + 1} 句（共 ${this.segments.length} 句），要继续吗？`;
      this.#ui.offer.hidden = false;
      this.#ui.resume.focus();
      this.#say(this.#ui.offerText.textContent);
    }

    #hideOffer() {
      this.#ui.offer.hidden = true;
    }

    // -------------------------------------------------------------- errors and messages

    #showError(kind, message, retry, cause = {}) {
      this.#player.stop();
      this.#error = { kind, message, retry };
      this.#ui.noticeText.textContent = message;
      this.#ui.notice.hidden = false;
      this.#say(message, { alert: true });
      this.#render();
      this.#emit("reader-error", { kind, message, index: this.currentIndex,
                                   status: cause.status ?? 0, detail: cause.message ?? "" });
    }

    #clearError() {
      if (!this.#error) return;
      this.#error = null;
      this.#ui.notice.hidden = true;
      this.#render();
    }

    /** Announce through the live region (cleared first, so a repeat is spoken again). */
    #say(message, { alert = false } = {}) {
      const region = alert ? this.#ui.alert : this.#ui.status;
      region.textContent = "";
      setTimeout(() => { region.textContent = message; }, 50);
    }

    #emit(type, detail = {}) {
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
    }

    // -------------------------------------------------------------- media session

    /** Headset and lock-screen keys drive the reader while it is in use. */
    #claimMediaSession() {
      if (!("mediaSession" in navigator) || !this.#manifest) return;
      const site = document.querySelector('meta[property="og:site_name"]')?.content
        || this.#manifest.source || location.hostname;
      navigator.mediaSession.metadata = new MediaMetadata({
        title: this.#manifest.title || document.title,
        artist: site,
        album: `${this.getAttribute("name") || DEFAULT_NAME} · 语音播报`,
      });
      const handlers = {
        play: () => this.play(), pause: () => this.pause(), stop: () => this.close(),
        nexttrack: () => this.next(), previoustrack: () => this.previous(),
      };
      for (const [action, handler] of Object.entries(handlers)) {
        try { navigator.mediaSession.setActionHandler(action, handler); } catch { /* unsupported */ }
      }
    }

    #releaseMediaSession() {
      if (!("mediaSession" in navigator)) return;
      for (const action of ["play", "pause", "stop", "nexttrack", "previoustrack"]) {
        try { navigator.mediaSession.setActionHandler(action, null); } catch { /* unsupported */ }
      }
      navigator.mediaSession.playbackState = "none";
    }

    // -------------------------------------------------------------- rendering

    /** Bring attributes, labels and ARIA states in line with the current state. */
    #render() {
      const state = this.state;
      const ui = this.#ui;
      this.setAttribute("state", state);
      const index = this.currentIndex;
      if (index >= 0) this.setAttribute("current-index", String(index));
      else this.removeAttribute("current-index");
      if (state !== this.#lastState) {
        const previous = this.#lastState;
        this.#lastState = state;
        this.#emit("reader-statechange", { state, previous });
      }
      const sounding = this.#player.wanted;
      ui.playIcon.innerHTML = state === "loading" ? ICONS.loading
        : sounding ? ICONS.pause : ICONS.play;
      ui.playLabel.textContent = sounding || state === "loading" ? "暂停"
        : state === "paused" ? "继续" : "播放";
      ui.captions.setAttribute("aria-pressed", String(this.hasAttribute("captions")));
      ui.point.setAttribute("aria-pressed", String(this.hasAttribute("point-read")));
      ui.scroll.setAttribute("aria-pressed", String(this.getAttribute("autoscroll") !== "off"));
      this.#renderMascot();
      this.#renderProgress();
      if ("mediaSession" in navigator && this.isOpen) {
        navigator.mediaSession.playbackState = sounding ? "playing" : "paused";
      }
    }

    #renderMascot() {
      const open = this.isOpen;
      this.#ui.mascot.setAttribute("aria-expanded", String(open));
      // The greeting's two phrases (name, invitation) on two lines, as on the sites.
      const lines = (open ? this.#collapseLabel : this.#greeting).split(/\s+/).filter(Boolean);
      this.#ui.bubble.replaceChildren(...lines.map((line) => {
        const span = document.createElement("span");
        span.textContent = line;
        return span;
      }));
      this.#ui.bubble.classList.toggle("sr-only", open);
    }

    #renderProgress() {
      const total = this.segments.length;
      const index = this.currentIndex;
      this.#ui.count.textContent = !total ? ""
        : index < 0 ? `共 ${total} 句` : `第 ${index + 1} / ${total} 句`;
      this.#ui.bar.style.width = total && index >= 0 ? `${((index + 1) / total) * 100}%` : "0";
      this.#renderTime();
    }

    /** Elapsed and total listening time at the current speed ("约" while estimated). */
    #renderTime() {
      const total = this.segments.length;
      if (!total) { this.#ui.time.textContent = ""; return; }
      const index = Math.max(0, this.currentIndex);
      const rate = this.#player.rate;
      const sum = (list) => list.reduce((a, b) => a + b, 0);
      const audio = this.#player.audio;
      const within = audio && Number(audio.dataset.index) === index ? audio.currentTime * 1000 : 0;
      const elapsed = (sum(this.#durations.slice(0, index)) + within) / rate;
      const whole = sum(this.#durations) / rate;
      const about = this.#estimated.size ? "约 " : "";
      this.#ui.time.textContent = `${clock(elapsed)} / ${about}${clock(whole)}`;
    }
  }

  // ------------------------------------------------------------------ start-up

  /** Script tag data attributes -> element attributes. */
  const OPTIONS = {
    service: "service", content: "content", name: "name", greeting: "greeting",
    color: "color", position: "position", voice: "voice", title: "article-title",
    captions: "captions", pointRead: "point-read", autoscroll: "autoscroll", stream: "stream",
  };

  function mount() {
    ReaderWidget.define();
    if (document.querySelector(ReaderWidget.tag)) return; // included twice, or placed by hand
    const widget = document.createElement(ReaderWidget.tag);
    const data = OWN_SCRIPT?.dataset ?? {};
    for (const [key, attribute] of Object.entries(OPTIONS)) {
      if (data[key] !== undefined) widget.setAttribute(attribute, data[key]);
    }
    if (!data.service && OWN_SCRIPT?.src) {
      widget.setAttribute("service", new URL(OWN_SCRIPT.src, location.href).origin);
    }
    document.body.append(widget);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount, { once: true });
  } else {
    mount();
  }
})();
