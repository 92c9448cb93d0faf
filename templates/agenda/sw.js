// The agenda's service worker: the network first, a copy when it is gone.
//
// Every GET of the agenda's pages, the registrants' pages and the static files goes to the
// network; a good answer is kept in the copy, and when the network fails the copy answers.
// So a page is never older than the network allows once online, and offline it is what was
// last seen. The live streams are left to the browser (they catch up from their cursor).
"use strict";
const COPY = "agenda-copy-v1";
const KEPT = [/^\/agenda\//, /^\/attend\//, /^\/static\//];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(COPY).then((copy) => copy.addAll({{ static_files|safe }})).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n !== COPY).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

// A session page never opened on this device is its entry in the event's programme.
const SESSION_PAGE = /^(\/agenda\/[^/]+\/[^/]+\/)sessions\/(\d+)\/$/;

async function fromCopy(request, url) {
  const copy = await caches.open(COPY);
  const found = await copy.match(request, { ignoreVary: true });
  if (found) return found;
  const session = SESSION_PAGE.exec(url.pathname);
  if (session && (await copy.match(url.origin + session[1], { ignoreVary: true }))) {
    return Response.redirect(`${session[1]}#session-${session[2]}`, 302);
  }
  return new Response("Offline, and this page was not kept on this device.", {
    status: 503,
    headers: { "Content-Type": "text/plain; charset=utf-8" },
  });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (!KEPT.some((pattern) => pattern.test(url.pathname))) return;
  if (url.pathname.endsWith("/stream")) return;
  event.respondWith(
    fetch(request)
      .then((answer) => {
        if (answer.ok && answer.type === "basic") {
          const kept = answer.clone();
          caches.open(COPY).then((copy) => copy.put(request, kept));
        }
        return answer;
      })
      .catch(() => fromCopy(request, url))
  );
});
