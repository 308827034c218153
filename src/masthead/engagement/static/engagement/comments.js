// Comments (跟帖) without page reloads. Every control is a plain link or form that works without this
// script; here the same requests go out with `Accept: application/json` and the answer's HTML is put
// in place. Any failure to reach the server falls back to submitting the form normally.

const JSON_HEADERS = { Accept: "application/json", "X-Requested-With": "fetch" };

function setup(section) {
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  section.append(status);
  const say = (text) => { status.textContent = text || ""; };
  const threads = section.querySelector("[data-threads]");
  const mainForm = section.querySelector("[data-comment-form]");
  let sort = section.querySelector("[data-sort] [aria-current]")?.dataset.sortKey || "hot";

  const fragment = (html) => document.createRange().createContextualFragment(html);
  const setCount = (n) => {
    if (typeof n === "number") document.querySelectorAll("[data-comment-count]").forEach((el) => { el.textContent = n; });
  };
  const withSort = (href) => {
    // A `sort` parameter also keeps the answer out of the shared page cache (HTML lives there).
    const url = new URL(href, location.href);
    if (!url.searchParams.has("sort")) url.searchParams.set("sort", sort);
    return url;
  };
  const getJSON = async (href) => {
    const response = await fetch(href, { headers: JSON_HEADERS, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  };
  const send = async (form) => {
    const response = await fetch(form.action, {
      method: "POST", body: new FormData(form), headers: JSON_HEADERS, credentials: "same-origin",
    });
    const data = await response.json().catch(() => null);
    if (data === null) throw new Error(String(response.status));
    if (data.login) { location.href = data.login; }
    return data;
  };
  const firstError = (data) => Object.values(data.errors || {}).flat()[0] || "";

  // --- the character counter -------------------------------------------------------------------------
  const count = (textarea) => {
    const counter = textarea.form?.querySelector("[data-counter]");
    if (!counter) return;
    const max = Number(textarea.getAttribute("maxlength")) || 1000;
    const n = textarea.value.trim().length;
    counter.textContent = `${n}/${max}`;
    counter.classList.toggle("is-near", n > max * 0.9);
  };
  section.addEventListener("input", (e) => { if (e.target.matches("textarea")) count(e.target); });
  section.querySelectorAll("[data-comment-form] textarea").forEach(count);

  // --- posting and replying ----------------------------------------------------------------------------
  const showErrors = (form, data) => {
    const box = form.querySelector("[data-errors]");
    const message = firstError(data);
    if (box) box.textContent = message;
    const textarea = form.querySelector("textarea");
    if (textarea && message) { textarea.setAttribute("aria-invalid", "true"); textarea.focus(); }
  };
  const placeComment = (data) => {
    if (data.thread) {
      const thread = section.querySelector(`[data-thread="${data.thread}"] [data-replies]`);
      if (thread) { const li = document.createElement("li"); li.append(fragment(data.html)); thread.append(li); }
    } else if (threads) {
      threads.prepend(fragment(data.html));
      section.querySelector("[data-empty]")?.remove();
    }
    document.getElementById(`c${data.id}`)?.scrollIntoView({ block: "nearest" });
  };
  const postComment = async (form) => {
    const button = form.querySelector("button[type=submit]");
    button.disabled = true; // a second click while the first is on its way would be a double submit
    try {
      const data = await send(form);
      if (!data.ok) { showErrors(form, data); return; }
      placeComment(data);
      setCount(data.count);
      say(data.message);
      form.querySelector("[data-errors]").textContent = "";
      const textarea = form.querySelector("textarea");
      textarea.value = ""; textarea.removeAttribute("aria-invalid"); count(textarea);
      form.querySelector("[name=client_token]").value = data.client_token;
      if (form !== mainForm) form.remove();
    } finally {
      button.disabled = false;
    }
  };

  const openReply = (link) => {
    const comment = link.closest("[data-comment]");
    section.querySelectorAll("[data-reply-form]").forEach((f) => f.remove());
    const form = mainForm.cloneNode(true);
    const id = `reply-body-${comment.dataset.comment}`;
    form.removeAttribute("id");
    form.dataset.replyForm = "";
    form.querySelector("[name=reply_to]").value = comment.dataset.comment;
    form.querySelector("[name=client_token]").value = crypto.randomUUID().replaceAll("-", "");
    form.querySelector("[data-errors]").textContent = "";
    form.querySelector("[data-replying]")?.remove();
    const textarea = form.querySelector("textarea");
    textarea.value = ""; textarea.id = id; textarea.removeAttribute("aria-invalid");
    textarea.setAttribute("aria-describedby", `${id}_helptext`);
    form.querySelector(".errorlist")?.remove();
    const label = form.querySelector("label.comment-label");
    label.htmlFor = id;
    const author = comment.querySelector(".comment-author")?.textContent.trim() || "";
    label.textContent = `${link.textContent.trim()} @${author}`;
    form.querySelector("[data-counter]").id = `${id}_helptext`;
    const cancel = document.createElement("button");
    cancel.type = "button"; cancel.className = "link-button"; cancel.textContent = section.dataset.cancelText || "取消";
    cancel.addEventListener("click", () => { form.remove(); link.focus(); });
    form.querySelector(".comment-form-foot").append(cancel);
    comment.after(form);
    count(textarea);
    textarea.focus();
  };

  // --- likes, delete, remove: answer carries the comment re-rendered -----------------------------------------
  const replaceComment = (form, data) => {
    const old = form.closest("[data-comment]");
    if (old) old.replaceWith(fragment(data.html));
    setCount(data.count);
    say(data.message);
  };

  section.addEventListener("submit", async (e) => {
    const form = e.target;
    const kind = ["commentForm", "commentLike", "commentDelete", "commentRemove"].find((k) => k in form.dataset);
    if (!kind) return;
    if (kind === "commentDelete" && !confirm(section.dataset.confirmDelete || "确定删除这条跟帖吗？")) {
      e.preventDefault();
      return;
    }
    e.preventDefault();
    try {
      if (kind === "commentForm") { await postComment(form); return; }
      const data = await send(form);
      if (!data.ok) { say(firstError(data)); alert(firstError(data)); return; }
      replaceComment(form, data);
      if (kind === "commentLike") document.querySelector(`#c${data.id} .comment-like`)?.focus();
    } catch {
      form.submit(); // the server answers the plain form with a redirect
    }
  });

  // --- sort, more comments, more replies -------------------------------------------------------------------
  const setMore = (next) => {
    const more = section.querySelector("[data-more]");
    if (!more) return;
    if (next) more.href = next; else more.closest(".more-comments, .pagination")?.remove();
  };
  section.addEventListener("click", async (e) => {
    const link = e.target.closest("a");
    if (!link || !section.contains(link)) return;
    if ("reply" in link.dataset && mainForm) { e.preventDefault(); openReply(link); return; }
    try {
      if ("sortKey" in link.dataset) {
        e.preventDefault();
        sort = link.dataset.sortKey;
        const data = await getJSON(withSort(link.href));
        threads.replaceChildren(fragment(data.html));
        section.querySelectorAll("[data-sort-key]").forEach((a) => {
          if (a === link) a.setAttribute("aria-current", "true"); else a.removeAttribute("aria-current");
        });
        let more = section.querySelector("[data-more]");
        if (!more && data.next) {
          const p = document.createElement("p");
          p.className = "more-comments";
          p.innerHTML = `<a data-more></a>`;
          p.firstChild.textContent = section.dataset.moreText || "查看更多跟帖";
          threads.after(p);
          more = p.firstChild;
        }
        setMore(data.next);
        say(link.textContent.trim());
      } else if ("more" in link.dataset) {
        e.preventDefault();
        const data = await getJSON(withSort(link.href));
        threads.append(fragment(data.html));
        setMore(data.next);
      } else if ("moreReplies" in link.dataset) {
        e.preventDefault();
        const data = await getJSON(link.href);
        link.closest("[data-thread]").querySelector("[data-replies]").replaceChildren(fragment(data.html));
        link.closest(".more-replies").remove();
      }
    } catch {
      location.href = link.href;
    }
  });
}

document.querySelectorAll("[data-comments]").forEach(setup);
