// Read completion: how far down the article body this reader got, reported once per page view.
//
// The article page opts in with data attributes on its <article> element:
//   <article … data-article-id="123" data-read-beacon="/studio/stats/beacon/">
// and loads this module. Nothing is sent while reading: one small beacon ("a=123&d=70", the depth
// rounded down to tens of per cent) leaves when the page is hidden or left. No cookies or ids of
// our own are added; the server counts the report into per-article sums and forgets the request.

const SAMPLE_RATE = 1.0; // share of page views that report (lower it to cut requests on busy sites)

const article = document.querySelector("article[data-read-beacon][data-article-id]");

if (article && "sendBeacon" in navigator && Math.random() < SAMPLE_RATE) {
  const body = article.querySelector(".article-body") || article;
  let deepest = 0; // the largest share of the body that has been on screen, 0..1
  let sent = false;
  let pending = false;

  const measure = () => {
    pending = false;
    const rect = body.getBoundingClientRect();
    if (rect.height <= 0) return;
    const seen = Math.min(rect.height, Math.max(0, window.innerHeight - rect.top));
    deepest = Math.max(deepest, seen / rect.height);
  };
  const schedule = () => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(measure);
    }
  };
  const send = () => {
    if (sent) return;
    sent = true;
    measure();
    const depth = Math.min(100, Math.floor(deepest * 10) * 10);
    const data = new URLSearchParams({ a: article.dataset.articleId, d: String(depth) });
    navigator.sendBeacon(article.dataset.readBeacon, data);
  };

  measure();
  window.addEventListener("scroll", schedule, { passive: true });
  window.addEventListener("resize", schedule, { passive: true });
  // "hidden" is the last moment browsers reliably give a page (mobile ones may never fire pagehide).
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") send();
  });
  window.addEventListener("pagehide", send);
}
