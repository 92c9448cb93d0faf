// The live agenda: changes arrive over Server-Sent Events and replace the session in place.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
(function () {
  "use strict";
  const agenda = document.getElementById("agenda");
  if (!agenda || !window.EventSource) return;
  const status = document.getElementById("live-status");
  const filtered = agenda.dataset.filtered === "1";
  const source = new EventSource(agenda.dataset.streamUrl);

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

  source.addEventListener("session", (message) => {
    const data = JSON.parse(message.data);
    const existing = agenda.querySelector(`li.session[data-session-id="${data.id}"]`);
    if (!existing && filtered) return; // a filtered view shows only what matched at load
    const item = fromHtml(data.html);
    item.classList.add("just-changed");
    removeItem(data.id);
    place(item, data.date);
  });
  source.addEventListener("remove", (message) => removeItem(JSON.parse(message.data).id));
  source.addEventListener("open", () => { if (status) status.textContent = "Live: changes show here as they happen."; });
  // A stream that ends is normal (the server answers what is new and closes; EventSource
  // comes back by itself): only a source that gave up is worth saying.
  source.addEventListener("error", () => {
    if (status && source.readyState === EventSource.CLOSED) {
      status.textContent = "Live updates stopped: reload the page to see changes.";
    }
  });
})();
