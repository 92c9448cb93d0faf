// The live agenda: changes arrive over Server-Sent Events and replace the session in place.
// EventSource reconnects by itself after a stream ends and sends Last-Event-ID, so nothing
// is missed. A server that is full or restarting answers 503, after which EventSource gives
// up: then this script comes back itself, from the last message it had, after a pause that
// grows and is spread at random so that a refused crowd does not return all at once.
(function () {
  "use strict";
  const agenda = document.getElementById("agenda");
  if (!agenda || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const filtered = agenda.dataset.filtered === "1";
  let lastId = null;
  let failures = 0;

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function daySection(date) {
    let section = agenda.querySelector(`section.day[data-date="${date}"]`);
    if (section) return section;
    section = document.createElement("section");
    section.className = "day";
    section.dataset.date = date;
    const title = document.createElement("h2");
    title.textContent = new Date(date + "T12:00:00").toLocaleDateString(undefined, {
      weekday: "long", day: "numeric", month: "long",
    });
    const list = document.createElement("ol");
    list.className = "sessions";
    section.append(title, list);
    const later = [...agenda.querySelectorAll("section.day")].find((s) => s.dataset.date > date);
    if (later) later.before(section); else agenda.append(section);
    const empty = document.getElementById("no-sessions");
    if (empty) empty.remove();
    return section;
  }

  function place(item, date) {
    const list = daySection(date).querySelector("ol.sessions");
    const start = Date.parse(item.dataset.startsAt);
    const after = [...list.children].find((li) => Date.parse(li.dataset.startsAt) > start);
    if (after) after.before(item); else list.append(item);
  }

  function removeItem(id) {
    const item = agenda.querySelector(`li.session[data-session-id="${id}"]`);
    if (!item) return;
    const section = item.closest("section.day");
    item.remove();
    if (section && !section.querySelector("li.session")) section.remove();
  }

  function onSession(message) {
    const data = JSON.parse(message.data);
    const existing = agenda.querySelector(`li.session[data-session-id="${data.id}"]`);
    if (!existing && filtered) return; // a filtered view shows only what matched at load
    const item = fromHtml(data.html);
    item.classList.add("just-changed");
    removeItem(data.id);
    place(item, data.date);
  }

  function streamUrl() {
    if (lastId === null) return agenda.dataset.streamUrl;
    const url = new URL(agenda.dataset.streamUrl, window.location.href);
    url.searchParams.set("last_id", lastId);
    return url.toString();
  }

  function connect() {
    const source = new EventSource(streamUrl());
    const remember = (message) => { if (message.lastEventId) lastId = message.lastEventId; };
    source.addEventListener("session", (message) => { remember(message); onSession(message); });
    source.addEventListener("remove", (message) => {
      remember(message);
      removeItem(JSON.parse(message.data).id);
    });
    source.addEventListener("open", () => {
      failures = 0;
      if (status) status.textContent = "Live: changes show here as they happen.";
    });
    // A stream that ends is normal (EventSource comes back by itself); one that was
    // refused is closed for good, so come back later with what was seen.
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) return;
      failures += 1;
      const pause = Math.min(60, 2 ** Math.min(failures, 6)) * (0.5 + Math.random()) * 1000;
      if (status) status.textContent = "Live updates paused: reconnecting shortly.";
      window.setTimeout(connect, pause);
    });
  }
  connect();
})();
