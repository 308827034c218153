// 不感兴趣 without a page reload: the form posts with fetch and the item disappears at once.
// Without JavaScript the same form posts and the feed page comes back without the item.
const status = document.querySelector("[data-feed-status]");

for (const form of document.querySelectorAll("form[data-feed-dismiss]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      const entry = form.closest("[data-feed-entry]");
      const next = entry.nextElementSibling;
      entry.remove();
      if (status) status.textContent = data.message || "";
      const focusTarget = next ? next.querySelector("a") : null;
      if (focusTarget) focusTarget.focus();
    } catch {
      form.submit(); // fall back to the plain form
    }
  });
}
