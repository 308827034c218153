// 无障碍工具: text size, high contrast, large cursor, reading guide and read aloud. Settings live in
// localStorage and are applied before the first paint by the inline script in base.html; this module
// wires the buttons. Without JavaScript the bar stays hidden and the pages work as they are.
const KEY = "masthead-a11y";
const SCALES = [0.875, 1, 1.125, 1.25, 1.5, 1.75, 2];
const FLAGS = { contrast: "a11y-contrast", cursor: "a11y-cursor", guide: "a11y-guide" };
const root = document.documentElement;
const bar = document.getElementById("a11y-tools");

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "{}");
  } catch {
    return {};
  }
}

let state = load();

function save() {
  try {
    localStorage.setItem(KEY, JSON.stringify(state));
  } catch {
    /* private mode: the settings last for this page only */
  }
}

function apply() {
  const scale = state.scale || 1;
  if (scale === 1) root.style.removeProperty("--text-scale");
  else root.style.setProperty("--text-scale", String(scale));
  for (const [flag, cls] of Object.entries(FLAGS)) root.classList.toggle(cls, Boolean(state[flag]));
  for (const button of bar.querySelectorAll("[data-a11y-toggle]")) {
    button.setAttribute("aria-pressed", String(Boolean(state[button.dataset.a11yToggle])));
  }
  const out = bar.querySelector("[data-a11y-scale]");
  out.value = `${Math.round(scale * 100)}%`;
  bar.querySelector('[data-a11y="smaller"]').disabled = scale <= SCALES[0];
  bar.querySelector('[data-a11y="larger"]').disabled = scale >= SCALES[SCALES.length - 1];
}

function step(direction) {
  const current = SCALES.indexOf(state.scale || 1);
  const next = SCALES[Math.min(SCALES.length - 1, Math.max(0, (current < 0 ? 1 : current) + direction))];
  state.scale = next;
}

function setOpen(open) {
  bar.hidden = !open;
  state.open = open;
  for (const opener of document.querySelectorAll("[data-a11y-open]")) opener.setAttribute("aria-expanded", String(open));
}

// Reading guide: a band that follows the pointer, or the focused element for keyboard users.
const guide = document.createElement("div");
guide.className = "a11y-guide-line";
guide.setAttribute("aria-hidden", "true");
document.body.append(guide);
document.addEventListener("pointermove", (e) => {
  if (state.guide) guide.style.top = `${e.clientY}px`;
});
document.addEventListener("focusin", (e) => {
  if (!state.guide) return;
  const box = e.target.getBoundingClientRect();
  guide.style.top = `${box.top + box.height / 2}px`;
});

// Read aloud: the article's title and paragraphs in order with the browser's speech synthesis,
// in a Chinese voice where one is installed; the paragraph being read is highlighted.
const readable = document.querySelector("[data-read-aloud]");
const readButton = bar.querySelector('[data-a11y="read"]');
const speech = "speechSynthesis" in window ? window.speechSynthesis : null;
let reading = false;

function paragraphs() {
  const title = document.querySelector("h1");
  const parts = [title, ...readable.querySelectorAll("p, h2, h3, li, figcaption")];
  return parts.filter((el) => el && el.textContent.trim());
}

function voiceFor(lang) {
  const voices = speech.getVoices();
  const prefix = lang.toLowerCase().startsWith("zh") ? "zh" : lang.slice(0, 2).toLowerCase();
  return voices.find((v) => v.lang.toLowerCase().replace("_", "-") === lang.toLowerCase())
    || voices.find((v) => v.lang.toLowerCase().startsWith(prefix)) || null;
}

function stopReading() {
  reading = false;
  speech.cancel();
  for (const el of document.querySelectorAll(".reading-aloud")) el.classList.remove("reading-aloud");
  readButton.setAttribute("aria-pressed", "false");
  readButton.textContent = readButton.dataset.labelStart;
  readButton.dataset.state = "idle";
}

function readFrom(items, index) {
  if (!reading || index >= items.length) {
    stopReading();
    return;
  }
  const el = items[index];
  for (const old of document.querySelectorAll(".reading-aloud")) old.classList.remove("reading-aloud");
  el.classList.add("reading-aloud");
  const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  el.scrollIntoView({ block: "center", behavior: reduce ? "auto" : "smooth" });
  const lang = el.closest("[lang]")?.getAttribute("lang") || "zh-CN";
  const utterance = new SpeechSynthesisUtterance(el.textContent.trim());
  utterance.lang = lang;
  const voice = voiceFor(lang);
  if (voice) utterance.voice = voice;
  utterance.rate = 0.95;
  utterance.onend = () => readFrom(items, index + 1);
  utterance.onerror = () => readFrom(items, index + 1);
  speech.speak(utterance);
}

if (readable && speech && readButton) {
  readButton.hidden = false;
  readButton.dataset.labelStart = readButton.textContent;
  readButton.dataset.state = "idle";
  readButton.addEventListener("click", () => {
    if (reading) {
      stopReading();
      return;
    }
    reading = true;
    readButton.setAttribute("aria-pressed", "true");
    readButton.textContent = readButton.dataset.labelStop;
    readButton.dataset.state = "reading";
    readFrom(paragraphs(), 0);
  });
  window.addEventListener("pagehide", () => speech.cancel());
}

bar.addEventListener("click", (e) => {
  const button = e.target.closest("button");
  if (!button || button === readButton) return;
  const action = button.dataset.a11y;
  if (action === "larger") step(1);
  else if (action === "smaller") step(-1);
  else if (action === "reset") state = { open: true };
  else if (action === "close") {
    setOpen(false);
    document.querySelector("[data-a11y-open]")?.focus();
  } else if (button.dataset.a11yToggle) state[button.dataset.a11yToggle] = !state[button.dataset.a11yToggle];
  apply();
  save();
});

for (const opener of document.querySelectorAll("[data-a11y-open]")) {
  opener.setAttribute("role", "button");
  opener.setAttribute("aria-controls", "a11y-tools");
  opener.addEventListener("click", (e) => {
    e.preventDefault();
    setOpen(bar.hidden);
    save();
    if (!bar.hidden) bar.querySelector("button:not([hidden])").focus();
  });
  opener.addEventListener("keydown", (e) => {
    if (e.key === " ") {
      e.preventDefault();
      opener.click();
    }
  });
}

setOpen(Boolean(state.open));
apply();
