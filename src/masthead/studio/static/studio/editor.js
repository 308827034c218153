// The studio's writing page: a rich-text body on a contenteditable region, a toolbar of real buttons,
// paste cleaning, autosave with version checks and a local copy in the browser for when the network
// is gone. No build step, no framework. Without JavaScript the page is a plain form with a <textarea>,
// and the server's sanitizer (nh3) is always the real guard: the cleaning here only keeps the editing
// view tidy.

const STRINGS = {
  toolbar: "正文格式",
  unsaved: "有未保存的修改",
  saving: "正在保存…",
  saved: (t) => `已保存 ${t}`,
  offline: "离线，已保存在本机",
  failed: "保存失败，已保存在本机",
  back: "网络已恢复，正在保存…",
  conflict: "此草稿已在其他窗口或设备上修改。",
  conflictHelp: "为免覆盖对方的修改，自动保存已暂停。",
  reload: "载入最新版本",
  keep: "保留我的版本",
  restoreAsk: "恢复本机草稿？",
  restoreHelp: (t) => `这台设备上保存了 ${t} 的修改，还没有同步到服务器。`,
  restore: "恢复",
  discard: "放弃",
  linkAsk: "链接地址（http://、https:// 或 mailto:），留空则取消链接：",
  linkBad: "链接地址只能以 http://、https:// 或 mailto: 开头。",
  cancel: "取消",
  uploading: "正在上传…",
  uploadFailed: "图片没有上传成功。",
};

const AUTOSAVE_DELAY = 2000; // after typing stops
const BLOCK_TAGS = { P: "p", H1: "h2", H2: "h2", H3: "h3", H4: "h3", H5: "h3", H6: "h3", BLOCKQUOTE: "blockquote", UL: "ul", OL: "ol", LI: "li", PRE: "p" };
const INLINE_TAGS = { STRONG: "strong", B: "strong", EM: "em", I: "em", A: "a", BR: "br" };
const DROP_TAGS = new Set(["SCRIPT", "STYLE", "META", "LINK", "TITLE", "HEAD", "XML", "IMG", "SVG", "IFRAME", "OBJECT", "EMBED", "VIDEO", "AUDIO", "CANVAS", "FORM", "INPUT", "BUTTON", "SELECT", "TEXTAREA", "NOSCRIPT", "TEMPLATE", "MATH", "PICTURE", "SOURCE"]);
const CONTAINER_TAGS = new Set(["DIV", "SECTION", "ARTICLE", "MAIN", "HEADER", "FOOTER", "ASIDE", "NAV", "CENTER", "ADDRESS", "TABLE", "THEAD", "TBODY", "TFOOT", "TR", "TD", "TH", "CAPTION", "DL", "DT", "DD", "FIGURE", "FIGCAPTION", "DETAILS", "SUMMARY", "BODY"]);
const STRUCTURE = new Set(["P", "H2", "H3", "BLOCKQUOTE", "UL", "OL", "LI", "FIGURE"]);

// Cleaning -----------------------------------------------------------------------------------------

export function safeUrl(value) {
  const url = (value || "").trim();
  if (/^(https?:\/\/|mailto:)/i.test(url)) return url;
  if (/^[\w-]+(\.[\w-]+)+(\/\S*)?$/.test(url)) return `https://${url}`; // "example.com/page"
  return null;
}

function styleOf(node) {
  return (node.getAttribute && node.getAttribute("style")) || "";
}

function isBold(style) {
  return /font-weight\s*:\s*(bold|[6-9]00)/i.test(style);
}

function isItalic(style) {
  return /font-style\s*:\s*italic/i.test(style);
}

function ourFigure(node, doc) {
  // A figure of an uploaded image: kept as a non-editable island; the server rebuilds it from the id.
  const id = node.getAttribute("data-image") || node.querySelector("img[data-image]")?.getAttribute("data-image");
  if (!/^\d{1,18}$/.test(id || "")) return null;
  const figure = doc.createElement("figure");
  figure.className = "figure";
  figure.setAttribute("data-image", id);
  figure.setAttribute("contenteditable", "false");
  const source = node.querySelector("img");
  const img = doc.createElement("img");
  const src = source?.getAttribute("src") || "";
  if (src.startsWith("/") && !src.startsWith("//")) img.setAttribute("src", src);
  img.setAttribute("alt", source?.getAttribute("alt") || "");
  img.setAttribute("data-image", id);
  figure.append(img);
  const caption = node.querySelector("figcaption")?.textContent.trim();
  if (caption) {
    const fc = doc.createElement("figcaption");
    fc.textContent = caption;
    figure.append(fc);
  }
  return figure;
}

function wordListType(node) {
  // Word writes list items as <p class="MsoListParagraph…" style="mso-list:l0 level1 lfo1"> with the
  // number or bullet in a <span style="mso-list:Ignore">.
  const marker = [...node.querySelectorAll("span")].find((s) => /mso-list\s*:\s*ignore/i.test(styleOf(s)));
  const text = (marker?.textContent || "").trim();
  return /^(\d+|[a-z]|[ivxlc]+)[.)、]/i.test(text) ? "ol" : "ul";
}

function isWordListItem(node) {
  return node.tagName === "P" && (/MsoListParagraph/i.test(node.className) || /mso-list\s*:\s*l\d/i.test(styleOf(node)));
}

function blockTarget(parent, root) {
  // Blocks may only sit in the root, a quote or a list item; climb out of paragraphs and inline tags.
  let target = parent;
  while (target !== root && !["BLOCKQUOTE", "LI"].includes(target.tagName)) target = target.parentNode;
  return target;
}

function convert(node, parent, root, doc, options) {
  if (node.nodeType === Node.TEXT_NODE) {
    const text = node.nodeValue.replace(/[\s\u00a0]+/g, " ");
    if (text) parent.append(doc.createTextNode(text));
    return;
  }
  if (node.nodeType !== Node.ELEMENT_NODE) return; // comments, Word's conditional junk, processing instructions
  const tag = node.tagName.toUpperCase();
  const style = styleOf(node);
  if (DROP_TAGS.has(tag) || tag.includes(":") || /mso-list\s*:\s*ignore|display\s*:\s*none/i.test(style)) return;
  const children = (into) => node.childNodes.forEach((child) => convert(child, into, root, doc, options));

  if (tag === "FIGURE" && options.keepFigures) {
    const figure = ourFigure(node, doc);
    if (figure) {
      blockTarget(parent, root).append(figure);
      return;
    }
  }
  if (isWordListItem(node)) {
    const kind = wordListType(node);
    const target = blockTarget(parent, root);
    let list = target.lastElementChild;
    if (!list || list.tagName.toLowerCase() !== kind || !list.hasAttribute("data-word")) {
      list = doc.createElement(kind);
      list.setAttribute("data-word", "");
      target.append(list);
    }
    const li = doc.createElement("li");
    list.append(li);
    children(li);
    return;
  }
  if (tag in BLOCK_TAGS) {
    let name = BLOCK_TAGS[tag];
    let target = blockTarget(parent, root);
    if (name === "li" && !["UL", "OL"].includes(parent.tagName)) name = "p";
    if (name === "li") target = parent;
    const block = doc.createElement(name);
    if (name === "ol" && /^\d+$/.test(node.getAttribute("start") || "")) block.setAttribute("start", node.getAttribute("start"));
    target.append(block);
    children(block);
    return;
  }
  if (tag in INLINE_TAGS) {
    if (tag === "B" && /font-weight\s*:\s*normal/i.test(style)) return children(parent); // Google Docs' wrapper
    if (tag === "A") {
      const href = safeUrl(node.getAttribute("href"));
      if (!href || !node.textContent.trim()) return children(parent);
      const a = doc.createElement("a");
      a.setAttribute("href", href);
      parent.append(a);
      return children(a);
    }
    const el = doc.createElement(INLINE_TAGS[tag]);
    parent.append(el);
    if (tag !== "BR") children(el);
    return;
  }
  if (CONTAINER_TAGS.has(tag)) {
    // A box of text (Word's <div class=WordSection1>, a table cell): its loose text becomes paragraphs.
    const hasBlocks = [...node.querySelectorAll("*")].some((el) => el.tagName in BLOCK_TAGS || isWordListItem(el));
    if (!hasBlocks && node.textContent.trim() && tag !== "BODY") {
      const p = doc.createElement("p");
      blockTarget(parent, root).append(p);
      return children(p);
    }
    return children(blockTarget(parent, root));
  }
  // <span>, <font>, <u>, <o:p> and the rest: keep the text and the emphasis it was styled with.
  let into = parent;
  if (isBold(style)) into = into.appendChild(doc.createElement("strong"));
  if (isItalic(style)) into = into.appendChild(doc.createElement("em"));
  children(into);
}

function wrapLoose(container, doc) {
  // Text and inline tags directly in the root or a quote go into paragraphs.
  let run = null;
  for (const child of [...container.childNodes]) {
    const block = child.nodeType === Node.ELEMENT_NODE && STRUCTURE.has(child.tagName);
    if (block) {
      run = null;
      if (child.tagName === "BLOCKQUOTE") wrapLoose(child, doc);
      continue;
    }
    if (!run) {
      if (child.nodeType === Node.TEXT_NODE && !child.nodeValue.trim()) {
        child.remove();
        continue;
      }
      run = doc.createElement("p");
      container.insertBefore(run, child);
    }
    run.append(child);
  }
}

function tidy(root) {
  root.querySelectorAll("[data-word]").forEach((el) => el.removeAttribute("data-word"));
  // Empty emphasis and empty blocks go; a block's leading and trailing spaces too.
  for (const el of [...root.querySelectorAll("strong, em, a")].reverse()) {
    if (!el.textContent.trim() && !el.querySelector("br")) el.replaceWith(...el.childNodes);
  }
  for (const el of [...root.querySelectorAll("p, h2, h3, li, blockquote, ul, ol")].reverse()) {
    if (!el.textContent.trim() && !el.querySelector("figure, br")) el.remove();
  }
  root.querySelectorAll("p, h2, h3, li").forEach((el) => {
    const first = el.firstChild;
    const last = el.lastChild;
    if (first?.nodeType === Node.TEXT_NODE) first.nodeValue = first.nodeValue.replace(/^\s+/, "");
    if (last?.nodeType === Node.TEXT_NODE) last.nodeValue = last.nodeValue.replace(/\s+$/, "");
  });
}

export function cleanHTML(html, options = {}) {
  // DOMParser gives an inert document: nothing in it loads or runs.
  const doc = new DOMParser().parseFromString(html || "", "text/html");
  const root = doc.createElement("div");
  convert(doc.body, root, root, doc, options);
  wrapLoose(root, doc);
  tidy(root);
  return root.innerHTML;
}

function escapeHTML(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

export function textToHTML(text) {
  return (text || "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => `<p>${escapeHTML(line)}</p>`)
    .join("");
}

// The editor -----------------------------------------------------------------------------------------

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function timeText(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

class Editor {
  constructor(form) {
    this.form = form;
    this.textarea = form.elements.body;
    this.status = document.getElementById("save-status");
    this.csrf = form.elements.csrfmiddlewaretoken.value;
    this.url = form.dataset.autosaveUrl;
    this.uploadUrl = form.dataset.uploadUrl;
    this.key = `masthead:draft:${form.dataset.article}`;
    this.version = Number(form.elements.version.value);
    this.seq = 0; // bumped on every change, so a save answered after more typing leaves the draft dirty
    this.dirty = false;
    this.saving = false;
    this.again = false;
    this.conflicted = false;
    this.submitting = false;
    this.pendingSubmit = null;
    this.range = null;
    this.build();
    this.offerLocalCopy();
    this.listen();
  }

  build() {
    const field = this.textarea.closest(".field");
    const label = field.querySelector("label");
    label.id = "body-label";
    label.removeAttribute("for");
    this.toolbar = el("div", { class: "editor-toolbar", role: "toolbar", "aria-label": STRINGS.toolbar, "aria-controls": "body-editor" });
    this.editor = el("div", {
      id: "body-editor",
      class: "editor-body article-body",
      contenteditable: "true",
      role: "textbox",
      "aria-multiline": "true",
      "aria-labelledby": "body-label",
      spellcheck: "true",
      lang: "zh-CN",
    });
    const errors = field.querySelector(".errors");
    if (errors) this.editor.setAttribute("aria-describedby", errors.id);
    this.editor.innerHTML = cleanHTML(this.textarea.value, { keepFigures: true }) || "<p><br></p>";
    this.buttons = {};
    for (const spec of this.commands()) {
      const button = el("button", { type: "button", class: "tool", "data-command": spec.id, title: spec.title || spec.label }, spec.label);
      if (spec.state) button.setAttribute("aria-pressed", "false");
      button.addEventListener("mousedown", (e) => e.preventDefault()); // keep the selection in the text
      button.addEventListener("click", () => spec.run());
      this.buttons[spec.id] = { button, spec };
      this.toolbar.append(button);
    }
    this.textarea.hidden = true;
    this.textarea.after(this.toolbar, this.editor);
    label.addEventListener("click", () => this.editor.focus());
    this.buildImageDialog();
    document.execCommand("defaultParagraphSeparator", false, "p");
    document.execCommand("styleWithCSS", false, false);
  }

  commands() {
    const inBlock = (tag) => () => this.blockTag() === tag;
    return [
      { id: "p", label: "正文段落", run: () => this.formatBlock("p"), state: inBlock("P") },
      { id: "h2", label: "标题", title: "小标题（二级）", run: () => this.formatBlock("h2"), state: inBlock("H2") },
      { id: "h3", label: "小标题", title: "小标题（三级）", run: () => this.formatBlock("h3"), state: inBlock("H3") },
      { id: "bold", label: "加粗", title: "加粗（Ctrl+B）", run: () => this.exec("bold"), state: () => document.queryCommandState("bold") },
      { id: "italic", label: "斜体", title: "斜体（Ctrl+I）", run: () => this.exec("italic"), state: () => document.queryCommandState("italic") },
      { id: "quote", label: "引用", run: () => this.toggleQuote(), state: () => !!this.closest("BLOCKQUOTE") },
      { id: "ol", label: "编号列表", run: () => this.exec("insertOrderedList"), state: () => this.listTag() === "OL" },
      { id: "ul", label: "项目列表", run: () => this.exec("insertUnorderedList"), state: () => this.listTag() === "UL" },
      { id: "link", label: "链接", title: "插入链接（Ctrl+K）", run: () => this.link(), state: () => !!this.closest("A") },
      { id: "image", label: "图片", title: "插入图片", run: () => this.openImageDialog() },
    ];
  }

  // Selection helpers

  restoreSelection() {
    // Typing in the text: the live selection is the right one (a remembered range may lag behind).
    const selection = getSelection();
    if (document.activeElement === this.editor && selection.rangeCount && this.editor.contains(selection.anchorNode)) return;
    this.editor.focus();
    if (this.range) {
      const selection = getSelection();
      selection.removeAllRanges();
      selection.addRange(this.range);
    }
  }

  anchor() {
    const selection = getSelection();
    const node = selection.rangeCount ? selection.anchorNode : this.range?.startContainer;
    return node && this.editor.contains(node) ? node : null;
  }

  closest(tag) {
    for (let node = this.anchor(); node && node !== this.editor; node = node.parentNode) {
      if (node.nodeName === tag) return node;
    }
    return null;
  }

  blockTag() {
    for (let node = this.anchor(); node && node !== this.editor; node = node.parentNode) {
      if (["P", "H2", "H3", "LI"].includes(node.nodeName)) return node.nodeName;
    }
    return null;
  }

  listTag() {
    return this.closest("LI")?.parentNode.nodeName || null;
  }

  topBlock() {
    let node = this.anchor();
    while (node && node.parentNode !== this.editor) node = node.parentNode;
    return node && node.nodeType === Node.ELEMENT_NODE ? node : null;
  }

  updateState() {
    for (const { button, spec } of Object.values(this.buttons)) {
      if (spec.state) button.setAttribute("aria-pressed", String(Boolean(spec.state())));
    }
  }

  // Commands

  exec(command, value = null) {
    this.restoreSelection();
    document.execCommand(command, false, value);
    this.changed();
  }

  formatBlock(tag) {
    this.restoreSelection();
    if (this.closest("LI")) document.execCommand(this.listTag() === "OL" ? "insertOrderedList" : "insertUnorderedList");
    document.execCommand("formatBlock", false, tag);
    this.changed();
  }

  toggleQuote() {
    this.restoreSelection();
    const quote = this.closest("BLOCKQUOTE");
    if (quote) {
      const selection = getSelection();
      const range = selection.rangeCount ? selection.getRangeAt(0) : null;
      quote.replaceWith(...quote.childNodes);
      if (range) selection.addRange(range);
    } else {
      document.execCommand("formatBlock", false, "blockquote");
      // Chromium puts the text straight in the quote; readers' pages expect paragraphs inside.
      const added = this.closest("BLOCKQUOTE");
      if (added) wrapLoose(added, document);
    }
    this.changed();
  }

  link() {
    const current = this.closest("A");
    const answer = window.prompt(STRINGS.linkAsk, current ? current.getAttribute("href") : "https://");
    this.restoreSelection();
    if (answer === null) return;
    if (!answer.trim() || answer.trim() === "https://") {
      if (current) {
        current.replaceWith(...current.childNodes);
        this.changed();
      }
      return;
    }
    const href = safeUrl(answer);
    if (!href) {
      this.setStatus(STRINGS.linkBad, "error");
      return;
    }
    if (current) current.setAttribute("href", href);
    else if (getSelection().isCollapsed) document.execCommand("insertHTML", false, `<a href="${escapeHTML(href).replace(/"/g, "&quot;")}">${escapeHTML(href)}</a>`);
    else document.execCommand("createLink", false, href);
    this.changed();
  }

  // Images

  buildImageDialog() {
    const section = document.getElementById("image-upload");
    this.imageForm = document.getElementById("image-form");
    if (!section || !this.imageForm) return;
    this.dialog = el("dialog", { class: "image-dialog", "aria-labelledby": "image-upload-title" });
    section.replaceWith(this.dialog);
    this.dialog.append(section);
    section.querySelectorAll(".no-js-only").forEach((node) => node.remove());
    this.imageAlert = el("p", { class: "errors upload-alert", role: "alert" });
    this.imageForm.prepend(this.imageAlert);
    const cancel = el("button", { type: "button", class: "button secondary" }, STRINGS.cancel);
    cancel.addEventListener("click", () => this.dialog.close());
    this.imageForm.querySelector(".form-actions").append(cancel);
    this.dialog.addEventListener("close", () => this.restoreSelection());
    this.imageForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.upload();
    });
  }

  openImageDialog() {
    if (!this.dialog) return;
    this.imageAlert.textContent = "";
    this.imageForm.querySelectorAll(".field .errors").forEach((node) => node.remove());
    this.dialog.showModal();
    this.imageForm.querySelector("input, select, textarea")?.focus();
  }

  async upload() {
    const submit = this.imageForm.querySelector("button[type=submit]");
    submit.disabled = true;
    this.imageAlert.textContent = STRINGS.uploading;
    try {
      const response = await fetch(this.uploadUrl, {
        method: "POST",
        body: new FormData(this.imageForm),
        headers: { Accept: "application/json", "X-CSRFToken": this.csrf },
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        this.showUploadErrors(data);
        return;
      }
      this.imageForm.reset();
      this.dialog.close();
      this.insertFigure(data.figure);
    } catch {
      this.imageAlert.textContent = STRINGS.uploadFailed;
    } finally {
      submit.disabled = false;
    }
  }

  showUploadErrors(data) {
    this.imageAlert.textContent = data.error || STRINGS.uploadFailed;
    for (const [name, messages] of Object.entries(data.errors || {})) {
      const field = this.imageForm.querySelector(`.field-${name}`) || this.imageForm.querySelector(".field-file");
      const list = el("ul", { class: "errors" });
      for (const message of messages) list.append(el("li", {}, message));
      field.append(list);
      this.imageAlert.textContent += ` ${messages.join(" ")}`;
    }
  }

  insertFigure(html) {
    const holder = document.createElement("div");
    holder.innerHTML = cleanHTML(html, { keepFigures: true });
    const figure = holder.querySelector("figure");
    if (!figure) return;
    const block = this.topBlock();
    if (block && !block.textContent.trim() && !block.querySelector("figure")) block.replaceWith(figure);
    else if (block) block.after(figure);
    else this.editor.append(figure);
    let next = figure.nextElementSibling;
    if (!next || next.tagName === "FIGURE") {
      next = el("p");
      next.append(el("br"));
      figure.after(next);
    }
    const range = document.createRange();
    range.setStart(next, 0);
    range.collapse(true);
    this.range = range;
    this.editor.focus();
    getSelection().removeAllRanges();
    getSelection().addRange(range.cloneRange());
    this.changed();
  }

  // Serialising

  serialize() {
    const clone = this.editor.cloneNode(true);
    clone.querySelectorAll("figure[data-image]").forEach((figure) => {
      const fresh = el("figure");
      fresh.append(el("img", { "data-image": figure.getAttribute("data-image") }));
      figure.replaceWith(fresh);
    });
    clone.querySelectorAll("b").forEach((node) => node.replaceWith(Object.assign(el("strong"), { innerHTML: node.innerHTML })));
    clone.querySelectorAll("i").forEach((node) => node.replaceWith(Object.assign(el("em"), { innerHTML: node.innerHTML })));
    clone.querySelectorAll("span, font").forEach((node) => node.replaceWith(...node.childNodes));
    clone.querySelectorAll("*").forEach((node) => {
      for (const attr of [...node.attributes]) {
        const keep = (attr.name === "href" && node.tagName === "A") || attr.name === "data-image" || (attr.name === "start" && node.tagName === "OL");
        if (!keep) node.removeAttribute(attr.name);
      }
    });
    clone.querySelectorAll("p, h2, h3").forEach((node) => {
      if (!node.textContent.trim() && !node.querySelector("img")) node.remove();
    });
    return clone.innerHTML;
  }

  normalize() {
    // Chromium adds styled spans when paragraphs are merged or pasted into; the body has no styles.
    this.editor.querySelectorAll("[style]").forEach((node) => {
      if (!node.closest("figure")) node.removeAttribute("style");
    });
    this.editor.querySelectorAll("span, font").forEach((node) => {
      if (!node.closest("figure")) node.replaceWith(...node.childNodes);
    });
  }

  sync() {
    this.textarea.value = this.serialize();
  }

  // Saving

  fields() {
    const f = this.form.elements;
    const data = { version: this.version, body: this.textarea.value };
    for (const name of ["title", "summary", "channel", "tags", "cover", "source"]) if (f[name]) data[name] = f[name].value;
    for (const name of ["is_original", "is_fiction", "is_ai_generated", "is_news"]) if (f[name]) data[name] = f[name].checked;
    return data;
  }

  changed() {
    this.normalize();
    this.sync();
    this.seq += 1;
    this.dirty = true;
    this.storeLocal();
    this.updateState();
    if (!this.conflicted) this.setStatus(navigator.onLine ? STRINGS.unsaved : STRINGS.offline, navigator.onLine ? "dirty" : "offline");
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save(), AUTOSAVE_DELAY);
  }

  storeLocal() {
    try {
      const copy = { ...this.fields(), html: this.editor.innerHTML, savedAt: Date.now() };
      localStorage.setItem(this.key, JSON.stringify(copy));
    } catch {
      // Storage full or disabled: the server copy is all there is.
    }
  }

  setStatus(text, state = "") {
    if (!this.status) return;
    this.status.textContent = text;
    this.status.dataset.state = state;
  }

  async save({ keepalive = false, force = false } = {}) {
    clearTimeout(this.timer);
    if ((!this.dirty && !force) || this.submitting || (this.conflicted && !force)) return;
    if (this.saving) {
      this.again = true;
      return;
    }
    if (!navigator.onLine) {
      this.setStatus(STRINGS.offline, "offline");
      return;
    }
    this.sync();
    const seq = this.seq;
    this.saving = true;
    this.setStatus(STRINGS.saving, "saving");
    try {
      const response = await fetch(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.csrf },
        body: JSON.stringify({ ...this.fields(), force }),
        credentials: "same-origin",
        keepalive,
      });
      if (response.status === 409) {
        this.showConflict();
        return;
      }
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const details = Object.values(data.errors || {}).flat().join(" ");
        this.setStatus(`${data.error || STRINGS.failed} ${details}`.trim(), "error");
        return;
      }
      this.version = data.version;
      this.form.elements.version.value = data.version;
      this.clearConflict();
      if (this.seq === seq) {
        this.dirty = false;
        localStorage.removeItem(this.key); // the server has it all
      } else {
        this.storeLocal(); // newer typing, now based on the new version
      }
      this.setStatus(STRINGS.saved(timeText(new Date())), "saved");
    } catch {
      this.setStatus(STRINGS.offline, "offline");
    } finally {
      this.saving = false;
      if (this.pendingSubmit !== null) {
        const submitter = this.pendingSubmit;
        this.pendingSubmit = null;
        this.form.requestSubmit(submitter || undefined);
      } else if (this.again || (this.dirty && this.seq !== seq && !this.conflicted)) {
        this.again = false;
        this.timer = setTimeout(() => this.save(), AUTOSAVE_DELAY);
      }
    }
  }

  showConflict() {
    this.conflicted = true;
    this.setStatus(STRINGS.conflict, "conflict");
    if (this.conflictBox) return;
    const box = el("div", { class: "notice conflict", role: "alert" });
    box.append(el("p", {}, `${STRINGS.conflict}${STRINGS.conflictHelp}`));
    const reload = el("button", { type: "button", class: "button secondary" }, STRINGS.reload);
    const keep = el("button", { type: "button", class: "button" }, STRINGS.keep);
    reload.addEventListener("click", () => {
      localStorage.removeItem(this.key);
      this.submitting = true; // nothing more to save from this page
      window.location.reload();
    });
    keep.addEventListener("click", () => this.save({ force: true }));
    const actions = el("p");
    actions.append(reload, " ", keep);
    box.append(actions);
    this.form.prepend(box);
    this.conflictBox = box;
    keep.focus();
  }

  clearConflict() {
    this.conflicted = false;
    this.conflictBox?.remove();
    this.conflictBox = null;
  }

  offerLocalCopy() {
    let copy = null;
    try {
      copy = JSON.parse(localStorage.getItem(this.key) || "null");
    } catch {
      copy = null;
    }
    if (!copy) return;
    this.sync();
    const server = this.fields();
    const same = ["title", "summary", "body", "source", "tags"].every((name) => (copy[name] ?? "") === (server[name] ?? ""));
    if (same) {
      localStorage.removeItem(this.key);
      return;
    }
    const box = el("div", { class: "notice local-copy", role: "alert" });
    box.append(el("p", {}, `${STRINGS.restoreAsk} ${STRINGS.restoreHelp(timeText(new Date(copy.savedAt)))}`));
    const restore = el("button", { type: "button", class: "button" }, STRINGS.restore);
    const discard = el("button", { type: "button", class: "button secondary" }, STRINGS.discard);
    restore.addEventListener("click", () => {
      this.restoreLocal(copy);
      box.remove();
      this.editor.focus();
    });
    discard.addEventListener("click", () => {
      localStorage.removeItem(this.key);
      box.remove();
      this.editor.focus();
    });
    const actions = el("p");
    actions.append(restore, " ", discard);
    box.append(actions);
    this.form.prepend(box);
  }

  restoreLocal(copy) {
    const f = this.form.elements;
    for (const name of ["title", "summary", "channel", "tags", "cover", "source"]) {
      if (f[name] && typeof copy[name] === "string") f[name].value = copy[name];
    }
    for (const name of ["is_original", "is_fiction", "is_ai_generated", "is_news"]) {
      if (f[name] && typeof copy[name] === "boolean") f[name].checked = copy[name];
    }
    this.editor.innerHTML = cleanHTML(copy.html || copy.body, { keepFigures: true }) || "<p><br></p>";
    // Saved on top of the version it was written on: if the server moved on meanwhile, the
    // creator is asked (409) instead of the other change being overwritten.
    if (Number.isInteger(copy.version)) this.version = copy.version;
    this.changed();
  }

  // Events

  listen() {
    // Remember where the caret was, for the toolbar and the image dialog. Read synchronously when
    // the text loses focus: a selectionchange event queued earlier may arrive after focus has moved.
    const remember = () => {
      const selection = getSelection();
      if (selection.rangeCount && this.editor.contains(selection.anchorNode)) {
        this.range = selection.getRangeAt(0).cloneRange();
        this.updateState();
      }
    };
    document.addEventListener("selectionchange", () => {
      if (document.activeElement === this.editor) remember();
    });
    this.editor.addEventListener("focusout", remember);
    this.editor.addEventListener("input", () => this.changed());
    this.editor.addEventListener("keydown", (event) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const key = event.key.toLowerCase();
      const command = { b: () => this.exec("bold"), i: () => this.exec("italic"), k: () => this.link() }[key];
      if (command) {
        event.preventDefault();
        command();
      }
    });
    this.editor.addEventListener("paste", (event) => {
      const data = event.clipboardData;
      if (!data) return;
      event.preventDefault();
      const html = data.getData("text/html");
      const clean = html ? cleanHTML(html) : textToHTML(data.getData("text/plain"));
      if (clean) document.execCommand("insertHTML", false, clean);
      this.changed();
    });
    this.editor.addEventListener("drop", (event) => {
      if (event.dataTransfer?.files?.length) event.preventDefault(); // pictures go through the image dialog
    });
    this.toolbar.addEventListener("keydown", (event) => {
      if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
      const buttons = [...this.toolbar.querySelectorAll("button")];
      const index = buttons.indexOf(document.activeElement);
      const next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: buttons.length - 1 }[event.key];
      buttons[(next + buttons.length) % buttons.length].focus();
      event.preventDefault();
    });
    for (const name of ["title", "summary", "channel", "tags", "cover", "source", "is_original", "is_fiction", "is_ai_generated", "is_news"]) {
      const field = this.form.elements[name];
      if (field) field.addEventListener(field.type === "checkbox" || field.tagName === "SELECT" ? "change" : "input", () => this.changed());
    }
    this.form.addEventListener("submit", (event) => {
      this.sync();
      clearTimeout(this.timer);
      if (this.saving) {
        // Let the save in flight finish first, so the form goes with the version it produced.
        event.preventDefault();
        this.pendingSubmit = event.submitter || false;
        return;
      }
      this.submitting = true;
    });
    const leave = () => {
      if (this.dirty) this.save({ keepalive: true });
    };
    window.addEventListener("pagehide", leave);
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") leave();
    });
    window.addEventListener("offline", () => this.setStatus(STRINGS.offline, "offline"));
    window.addEventListener("online", () => {
      // The text on this page is the local copy: send it now.
      if (this.dirty) {
        this.setStatus(STRINGS.back, "saving");
        this.save();
      }
    });
  }
}

const form = document.getElementById("article-form");
if (form && form.elements.body) {
  form.classList.add("has-editor");
  window.mastheadEditor = new Editor(form);
}
