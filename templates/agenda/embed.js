// <sessions-agenda src="https://…/agenda/ORG/EVENT/embed.json" day="2026-06-01" track="3">
//
// An event's agenda inside another site. It reads the event's data from this site without
// cookies (the site must be on the event's embed list: the browser refuses the data to any
// other), draws it in a shadow tree that the host page's styles do not reach, and follows
// the event's live stream, reading the data again after each change. The host page styles
// it with CSS custom properties on the element:
//   --sa-font, --sa-text, --sa-muted, --sa-background, --sa-accent, --sa-border, --sa-radius
(function () {
  "use strict";
  if (!window.customElements || customElements.get("sessions-agenda")) return;

  const STYLE = `
    :host { display: block; font: inherit; font-family: var(--sa-font, inherit);
      color: var(--sa-text, inherit); background: var(--sa-background, transparent); }
    h2 { font-size: 1.15em; margin: 1em 0 0.4em; }
    ol { list-style: none; margin: 0; padding: 0; }
    li { display: grid; grid-template-columns: 7.5em 1fr; gap: 0.75em; padding: 0.6em 0.4em;
      border-bottom: 1px solid var(--sa-border, rgba(127, 127, 127, 0.35));
      border-left: 4px solid var(--track, transparent); }
    h3 { font-size: 1em; margin: 0; }
    a { color: var(--sa-accent, inherit); }
    .meta, .status { color: var(--sa-muted, inherit); opacity: 0.85; font-size: 0.9em; margin: 0.2em 0 0; }
    time { font-variant-numeric: tabular-nums; }
    @media (max-width: 30em) { li { grid-template-columns: 1fr; gap: 0.2em; } }
  `;

  function el(name, text, attrs) {
    const node = document.createElement(name);
    if (text) node.textContent = text;
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    return node;
  }

  class SessionsAgenda extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      this.root = this.attachShadow({ mode: "open" });
      this.root.append(el("style", STYLE));
      this.body = el("div", "", { role: "region", "aria-label": "Agenda", "aria-busy": "true" });
      this.status = el("p", "", { class: "status", role: "status" });
      this.root.append(this.body, this.status);
      this.load();
    }

    disconnectedCallback() {
      if (this.source) this.source.close();
    }

    dataUrl() {
      const url = new URL(this.getAttribute("src"), document.baseURI);
      for (const name of ["day", "track"]) {
        if (this.getAttribute(name)) url.searchParams.set(name, this.getAttribute(name));
      }
      return url.toString();
    }

    load() {
      fetch(this.dataUrl(), { credentials: "omit", mode: "cors" })
        .then((answer) => {
          if (!answer.ok) throw new Error(String(answer.status));
          return answer.json();
        })
        .then((data) => {
          this.draw(data);
          this.listen(data.stream_url);
        })
        .catch(() => {
          this.body.setAttribute("aria-busy", "false");
          this.status.textContent = "The agenda could not be loaded here.";
        });
    }

    draw(data) {
      const zone = data.event.timezone;
      const frame = document.createDocumentFragment();
      const title = el("p", "", { class: "meta" });
      title.append(el("a", data.event.name, { href: data.event.url }), ` · times in ${zone}`);
      frame.append(title);
      if (!data.days.length) frame.append(el("p", "No sessions have been published yet."));
      for (const day of data.days) {
        const label = new Date(day.date + "T12:00:00").toLocaleDateString(undefined, {
          weekday: "long", day: "numeric", month: "long",
        });
        const section = el("section", "", { "aria-label": label });
        section.append(el("h2", label));
        const list = el("ol");
        for (const session of day.sessions) {
          const item = el("li", "", { "data-session-id": String(session.id) });
          if (session.track_color) item.style.setProperty("--track", session.track_color);
          item.append(el("time", session.time, { datetime: session.starts_at }));
          const text = el("div");
          const heading = el("h3");
          heading.append(el("a", session.name, { href: session.url, dir: "auto" }));
          text.append(heading);
          const meta = [session.room, session.track, session.speakers.join(", ")].filter(Boolean);
          if (meta.length) text.append(el("p", meta.join(" · "), { class: "meta", dir: "auto" }));
          if (session.seats) text.append(el("p", session.seats, { class: "meta" }));
          item.append(text);
          list.append(item);
        }
        section.append(list);
        frame.append(section);
      }
      this.body.replaceChildren(frame);
      this.body.setAttribute("aria-busy", "false");
      this.status.textContent = "";
    }

    listen(url) {
      if (this.source || !window.EventSource || !url) return;
      this.source = new EventSource(url);
      const again = () => {
        clearTimeout(this.pending);
        this.pending = setTimeout(() => this.refresh(), 300);
      };
      this.source.addEventListener("session", again);
      this.source.addEventListener("remove", again);
    }

    refresh() {
      fetch(this.dataUrl(), { credentials: "omit", mode: "cors", cache: "no-cache" })
        .then((answer) => (answer.ok ? answer.json() : null))
        .then((data) => { if (data) this.draw(data); })
        .catch(() => {});
    }
  }

  customElements.define("sessions-agenda", SessionsAgenda);
})();
