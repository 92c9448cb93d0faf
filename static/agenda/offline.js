// The agenda offline: registers the service worker (templates/agenda/sw.js), which keeps
// each page it answers, and says how old the page is while the network is gone. When it
// returns, live.js's stream catches up from the page's cursor.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !window.caches) return;
  const note = document.getElementById("offline-note");
  const key = "agenda-fresh:" + location.pathname + location.search;
  const COPY = "agenda-copy-v1";

  function say() {
    if (!note) return;
    if (navigator.onLine) {
      note.hidden = true;
      return;
    }
    const fresh = Number(localStorage.getItem(key));
    const when = fresh
      ? new Date(fresh).toLocaleString(undefined, {
          weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
        })
      : "an earlier visit";
    note.textContent = "Offline: this is the programme as of " + when + ". It catches up when the network returns.";
    note.hidden = false;
  }

  window.addEventListener("online", say);
  window.addEventListener("offline", say);
  say();

  const first = !navigator.serviceWorker.controller;
  navigator.serviceWorker.register("/sw.js", { scope: "/" })
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      if (!navigator.onLine) return;
      localStorage.setItem(key, String(Date.now()));
      // The worker keeps every page it answers; the first page of all came before it.
      if (!first) return;
      return caches.open(COPY).then((copy) =>
        fetch(location.href, { credentials: "same-origin" }).then((answer) => {
          if (answer.ok) return copy.put(location.href, answer);
        })
      );
    })
    .then(() => document.documentElement.setAttribute("data-offline-ready", "1"))
    .catch(() => {});
})();
