// Likes, favorites and follows without a page reload, and shares that count.
//
// The forms work on their own (POST, then the server redirects back); this module sends the same
// form with fetch and `Accept: application/json`, and the server answers with the new state and
// count. Shares: copying the link and opening the 微信扫一扫 box each send a small POST to the
// article's share counter (the server counts one share per reader, article and day).

const FAILED = "没有成功，请稍后再试。"; // used only if the page gave no translated text

function statusOf(form) {
  const scope = form.closest(".reactions, .author-card, .follow-action") || form;
  return scope.querySelector(".reaction-status");
}

function say(element, text) {
  if (element) element.textContent = text;
}

function failedText(form) {
  return form.closest("[data-failed]")?.dataset.failed || FAILED;
}

function show(form, data) {
  const on = Boolean(data.state);
  form.querySelector("input[name=state]").value = on ? "off" : "on";
  const button = form.querySelector("button[type=submit]");
  button.setAttribute("aria-pressed", String(on));
  const label = button.querySelector(".reaction-label");
  if (label) label.textContent = on ? button.dataset.labelOn : button.dataset.labelOff;
  if ("count_text" in data) {
    const scope = form.closest(".reactions, .author-card") || form;
    for (const element of scope.querySelectorAll(`[data-count="${form.dataset.reaction}"]`)) {
      // The follower count sits in a <dd> of the author card; the like count is a <span> in the button.
      (element.querySelector("dd") || element).textContent = data.count_text;
    }
  }
}

async function submit(event) {
  const form = event.target.closest("form.reaction-form");
  if (!form || event.defaultPrevented) return;
  event.preventDefault();
  if (form.dataset.busy) return; // a second click while the first is on its way
  form.dataset.busy = "1";
  const button = form.querySelector("button[type=submit]");
  button.setAttribute("aria-busy", "true");
  say(statusOf(form), "");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (response.status === 401 && data.login_url) {
      window.location.assign(data.login_url);
    } else if (response.ok) {
      show(form, data);
    } else {
      say(statusOf(form), data.error || failedText(form));
    }
  } catch {
    say(statusOf(form), failedText(form));
  } finally {
    delete form.dataset.busy;
    button.removeAttribute("aria-busy");
  }
}

document.addEventListener("submit", submit);

// --- shares ---------------------------------------------------------------------------------------

const reactions = document.querySelector(".reactions[data-share-link]");
const sent = new Set();

function countShare(url) {
  if (!url || sent.has(url)) return;
  sent.add(url);
  // A beacon survives the reader leaving the page at once (e.g. switching to WeChat to paste).
  if (!("sendBeacon" in navigator) || !navigator.sendBeacon(url)) {
    fetch(url, { method: "POST", credentials: "same-origin", keepalive: true }).catch(() => sent.delete(url));
  }
}

if (reactions) {
  const status = reactions.querySelector(".reaction-status");

  // The stylesheet's no-JavaScript QR counter is not needed: this module counts instead.
  reactions.querySelector(".qr-seen")?.remove();
  const wechat = document.querySelector("details.wechat");
  wechat?.addEventListener("toggle", () => {
    if (wechat.open) countShare(reactions.dataset.shareQr);
  });

  const copyLink = document.querySelector(".copy-link");
  const input = copyLink?.querySelector("input");
  const template = reactions.querySelector("template.copy-link-button");
  if (input && template) {
    // Copying the address by hand is a share too.
    input.addEventListener("copy", () => countShare(reactions.dataset.shareLink));
    const button = template.content.firstElementChild.cloneNode(true);
    copyLink.append(" ", button);
    button.addEventListener("click", async () => {
      try {
        if (!navigator.clipboard) throw new Error("no clipboard"); // plain http: not a secure context
        await navigator.clipboard.writeText(input.value);
        countShare(reactions.dataset.shareLink);
        say(status, reactions.dataset.copied);
      } catch {
        input.focus();
        input.select();
        say(status, reactions.dataset.copyFailed);
      }
    });
  }
}
