'use strict';
// The schedule grid as a planner: drag a block to another time or room, drag its lower edge
// to change its end, drag an unscheduled session onto the grid or a block onto the
// "Unscheduled" list; or focus a session, move it with the arrow keys and press Enter (Delete
// unschedules it). Each
// change is one POST to the grid's move endpoint, which calls the same session service as
// the form and the API with the version the grid was drawn from. A refused move leaves the
// block where it was and says why next to it. P pins or unpins the focused session (schedule
// suggestions leave pinned sessions where they are). Undo sends the last change back; an
// accepted schedule suggestion is one step on the same stack, undone as a whole. The grid
// polls for other people's changes and redraws itself when there are any.
(function () {
  const DRAG_THRESHOLD = 4;
  let grid = document.getElementById('sm-schedule');
  if (!grid || !grid.dataset.moveUrl) return;

  const area = document.getElementById('sm-grid-area');
  const status = document.getElementById('sm-planner-status');
  const undoButton = document.getElementById('sm-undo');
  const stepSelect = document.getElementById('sm-step');
  const csrf = document.querySelector('#sm-planner-bar [name=csrfmiddlewaretoken]').value;
  const undoKey = 'sm-undo-' + grid.dataset.event;
  let drag = null; // what a pointer is doing
  let keyed = null; // a move being made with the keys
  let stateTag = null;
  let busy = false;

  // --- geometry ---------------------------------------------------------------------------
  const step = () => parseInt(stepSelect.value, 10);
  const firstMinute = () => parseInt(grid.dataset.firstHour, 10) * 60;
  const slotMinutes = () => parseInt(grid.dataset.slotMinutes, 10);
  const headerHeight = () => grid.querySelector('.sm-corner').getBoundingClientRect().height;
  const rowHeight = () => {
    const hour = grid.querySelector('.sm-hour');
    return hour.getBoundingClientRect().height / (60 / slotMinutes());
  };
  const columns = () => Array.from(grid.querySelectorAll('.sm-loc'));
  const clock = (minutes) =>
    String(Math.floor(minutes / 60)).padStart(2, '0') + ':' + String(minutes % 60).padStart(2, '0');
  const snap = (minutes) => Math.round(minutes / step()) * step();

  function minutesAt(clientY) {
    const top = grid.getBoundingClientRect().top + headerHeight();
    return firstMinute() + ((clientY - top) / rowHeight()) * slotMinutes();
  }

  function columnAt(clientX) {
    return columns().find((column) => {
      const box = column.getBoundingClientRect();
      return clientX >= box.left && clientX < box.right;
    });
  }

  function over(element, clientX, clientY) {
    if (!element) return false;
    const box = element.getBoundingClientRect();
    return clientX >= box.left && clientX <= box.right && clientY >= box.top && clientY <= box.bottom;
  }

  // --- what a move would clash with, shown before the drop -----------------------------------
  function clashes(item, target) {
    if (item.dataset.holds !== '1') return []; // a submitted session holds nothing yet
    const speakers = new Set((item.dataset.speakers || '').split(' ').filter(Boolean));
    return Array.from(grid.querySelectorAll('.sm-block')).filter((other) => {
      if (other.dataset.id === item.dataset.id || other.dataset.holds !== '1') return false;
      const meet =
        parseInt(other.dataset.start, 10) < target.end && parseInt(other.dataset.end, 10) > target.start;
      if (!meet) return false;
      const room = target.location !== '' && other.dataset.location === target.location;
      const shared = (other.dataset.speakers || '').split(' ').some((id) => speakers.has(id));
      return room || shared;
    });
  }

  // A held session's speakers with availability entered must be there for all of it.
  function unavailable(item, target) {
    if (item.dataset.holds !== '1') return [];
    let windows = {};
    try {
      windows = JSON.parse(grid.dataset.availability || '{}');
    } catch (e) {
      return [];
    }
    return (item.dataset.speakers || '').split(' ').filter((id) => {
      const mine = windows[id];
      return mine && !mine.some(([lo, hi]) => lo <= target.start && target.end <= hi);
    });
  }

  let ghost = null;
  function showGhost(item, target) {
    shadeUnavailable(item);
    const column = columns().find((c) => c.dataset.location === target.location);
    if (!column) return hideGhost();
    if (!ghost) {
      ghost = document.createElement('div');
      ghost.className = 'sm-ghost';
      ghost.setAttribute('aria-hidden', 'true');
      grid.appendChild(ghost);
    }
    const box = grid.getBoundingClientRect();
    const col = column.getBoundingClientRect();
    ghost.style.left = col.left - box.left + 'px';
    ghost.style.width = col.width + 'px';
    ghost.style.top = headerHeight() + ((target.start - firstMinute()) / slotMinutes()) * rowHeight() + 'px';
    ghost.style.height = ((target.end - target.start) / slotMinutes()) * rowHeight() + 'px';
    const blocking = clashes(item, target);
    const away = unavailable(item, target);
    grid.querySelectorAll('.sm-would-clash').forEach((el) => el.classList.remove('sm-would-clash'));
    blocking.forEach((el) => el.classList.add('sm-would-clash'));
    ghost.classList.toggle('sm-ghost-clash', blocking.length > 0 || away.length > 0);
    ghost.textContent =
      clock(target.start) + '–' + clock(target.end) +
      (blocking.length ? ' · clashes with ' + blocking.map((el) => el.dataset.name).join(', ') : '') +
      (away.length ? ' · a speaker is not available then' : '');
  }

  function hideGhost() {
    if (ghost) ghost.remove();
    ghost = null;
    grid.querySelectorAll('.sm-would-clash').forEach((el) => el.classList.remove('sm-would-clash'));
    grid.querySelectorAll('.sm-unavailable').forEach((el) => el.remove());
    shaded = null;
  }

  // While a held session moves, the times its speakers cannot be there are shaded across
  // every room (the day's minutes outside their availability, for those who entered one).
  let shaded = null;
  function shadeUnavailable(item) {
    if (shaded === item || item.dataset.holds !== '1') return;
    shaded = item;
    let windows = {};
    try {
      windows = JSON.parse(grid.dataset.availability || '{}');
    } catch (e) {
      return;
    }
    const speakers = (item.dataset.speakers || '').split(' ').filter((id) => windows[id]);
    if (!speakers.length) return;
    const first = firstMinute();
    const last = first + (grid.querySelectorAll('.sm-hour').length * 60);
    // Free where every such speaker is available: walk the day minute by step.
    const free = (m) => speakers.every((id) => windows[id].some(([lo, hi]) => lo <= m && m < hi));
    const cols = columns();
    if (!cols.length) return;
    const box = grid.getBoundingClientRect();
    const left = cols[0].getBoundingClientRect().left - box.left;
    const right = cols[cols.length - 1].getBoundingClientRect().right - box.left;
    let start = null;
    for (let m = first; m <= last; m += slotMinutes()) {
      const out = m < last && !free(m);
      if (out && start === null) start = m;
      if (!out && start !== null) {
        const shade = document.createElement('div');
        shade.className = 'sm-unavailable';
        shade.setAttribute('aria-hidden', 'true');
        shade.style.left = left + 'px';
        shade.style.width = right - left + 'px';
        shade.style.top = headerHeight() + ((start - first) / slotMinutes()) * rowHeight() + 'px';
        shade.style.height = ((m - start) / slotMinutes()) * rowHeight() + 'px';
        grid.appendChild(shade);
        start = null;
      }
    }
  }

  // --- talking to the server -----------------------------------------------------------------
  function say(text, kind) {
    status.textContent = text;
    status.dataset.kind = kind || '';
  }

  function noteNextTo(id, text) {
    const block = grid.querySelector('.sm-block[data-id="' + id + '"]');
    const note = document.createElement('div');
    note.className = 'sm-note';
    note.setAttribute('role', 'alert');
    note.textContent = text;
    if (block) {
      const box = grid.getBoundingClientRect();
      const at = block.getBoundingClientRect();
      note.style.left = at.left - box.left + 'px';
      note.style.top = at.bottom - box.top + 2 + 'px';
      grid.appendChild(note);
    } else {
      document.getElementById('sm-unscheduled').prepend(note);
    }
    setTimeout(() => note.remove(), 8000);
  }

  async function send(payload) {
    const response = await fetch(grid.dataset.moveUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify(payload),
      credentials: 'same-origin',
    });
    let body = {};
    try {
      body = await response.json();
    } catch (e) {
      body = { message: 'The server answered ' + response.status + '.' };
    }
    return { ok: response.ok, status: response.status, body };
  }

  function placeOf(item) {
    if (!item.classList.contains('sm-block')) return null; // it was unscheduled
    return {
      location_id: item.dataset.location === '' ? null : parseInt(item.dataset.location, 10),
      date: grid.dataset.day,
      start_time: clock(parseInt(item.dataset.start, 10)),
      end_time: clock(parseInt(item.dataset.end, 10)),
    };
  }

  // One change of one session through the move endpoint: on success it goes on the undo
  // stack (with what puts it back) and the grid is redrawn with the focus kept on the session;
  // a refusal is said, and beside the block.
  async function change(item, payload, before, said) {
    if (busy) return;
    busy = true;
    const id = payload.id;
    try {
      const answer = await send(payload);
      if (answer.ok) {
        pushUndo({ id, version: answer.body.version, before, name: item.dataset.name });
        const hadFocus = item === document.activeElement;
        await redraw();
        // The redraw replaced the element: keep the keyboard where it was.
        if (hadFocus) {
          const again = document.querySelector(`.sm-block[data-id="${id}"], .sm-unplaced[data-id="${id}"]`);
          if (again) again.focus();
        }
        say(said, 'ok');
      } else {
        if (answer.status === 412) await redraw();
        say(answer.body.message, 'refused');
        noteNextTo(id, answer.body.message);
      }
    } catch (e) {
      say('The change could not be sent: ' + e.message, 'refused');
    } finally {
      busy = false;
    }
  }

  function move(item, target) {
    const payload = { id: parseInt(item.dataset.id, 10), version: parseInt(item.dataset.version, 10) };
    if (target === null) {
      payload.unschedule = true;
    } else {
      payload.location_id = target.location === '' ? null : parseInt(target.location, 10);
      payload.date = grid.dataset.day;
      payload.start_time = clock(target.start);
      payload.end_time = clock(target.end);
    }
    const said = target === null
      ? item.dataset.name + ' is unscheduled.'
      : item.dataset.name + ' moved to ' + payload.start_time + '–' + payload.end_time + '.';
    return change(item, payload, placeOf(item), said);
  }

  function pin(item) {
    const was = item.dataset.pinned === '1';
    const payload = { id: parseInt(item.dataset.id, 10), version: parseInt(item.dataset.version, 10), pinned: !was };
    const said = item.dataset.name + (was ? ' is no longer pinned.' : ' is pinned: suggestions leave it where it is.');
    return change(item, payload, { pinned: was }, said);
  }

  // --- undo ------------------------------------------------------------------------------------
  function undoStack() {
    try {
      return JSON.parse(sessionStorage.getItem(undoKey) || '[]');
    } catch (e) {
      return [];
    }
  }

  function saveUndo(stack) {
    sessionStorage.setItem(undoKey, JSON.stringify(stack.slice(-20)));
    undoButton.disabled = stack.length === 0;
  }

  function pushUndo(entry) {
    const stack = undoStack();
    stack.push(entry);
    saveUndo(stack);
  }

  // An accepted suggestion is undone by its own endpoint, which puts back every session it
  // moved (unless changed since) and shows the outcome on the page it answers with.
  function undoSuggestion(entry) {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = entry.url;
    for (const [name, value] of [['csrfmiddlewaretoken', csrf], ['action', 'undo']]) {
      const input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = value;
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
  }

  // The suggestion panel says when one was just accepted (push it, once) or undone by its
  // own button (then it is no longer on the stack).
  function followSuggestion() {
    const panel = document.getElementById('sm-suggest');
    if (!panel) return;
    let stack = undoStack();
    if (panel.dataset.accepted && !stack.some((e) => e.proposal === panel.dataset.accepted)) {
      const seen = 'sm-undo-seen-' + panel.dataset.accepted;
      if (!sessionStorage.getItem(seen)) {
        sessionStorage.setItem(seen, '1');
        stack.push({ proposal: panel.dataset.accepted, url: panel.dataset.undoUrl, name: 'the accepted suggestion' });
      }
    }
    if (panel.dataset.undone) stack = stack.filter((e) => e.proposal !== panel.dataset.undone);
    saveUndo(stack);
  }

  undoButton.addEventListener('click', async () => {
    const stack = undoStack();
    const last = stack.pop();
    if (!last || busy) return;
    if (last.proposal) {
      saveUndo(stack);
      undoSuggestion(last);
      return;
    }
    busy = true;
    const payload = { id: last.id, version: last.version };
    Object.assign(payload, last.before === null ? { unschedule: true } : last.before);
    try {
      const answer = await send(payload);
      saveUndo(stack);
      await redraw();
      if (answer.ok) {
        say(
          last.before !== null && 'pinned' in last.before
            ? 'Undone: ' + last.name + (last.before.pinned ? ' is pinned again.' : ' is no longer pinned.')
            : 'Undone: ' + last.name + ' is back where it was.',
          'ok'
        );
      } else {
        say('Could not undo: ' + answer.body.message, 'refused');
      }
    } catch (e) {
      say('The undo could not be sent: ' + e.message, 'refused');
    } finally {
      busy = false;
    }
  });

  // --- redrawing -------------------------------------------------------------------------------
  async function rememberState() {
    try {
      const response = await fetch(grid.dataset.stateUrl, { credentials: 'same-origin' });
      if (response.ok) stateTag = response.headers.get('ETag');
    } catch (e) {
      /* the next poll will tell */
    }
  }

  async function redraw() {
    const scroller = area.querySelector('.sm-schedule-scroll');
    const scroll = scroller ? [scroller.scrollLeft, scroller.scrollTop] : [0, 0];
    const response = await fetch(window.location.href, { credentials: 'same-origin' });
    const page = new DOMParser().parseFromString(await response.text(), 'text/html');
    const fresh = page.getElementById('sm-grid-area');
    if (!fresh) return;
    area.innerHTML = fresh.innerHTML;
    grid = document.getElementById('sm-schedule');
    const newScroller = area.querySelector('.sm-schedule-scroll');
    if (newScroller) [newScroller.scrollLeft, newScroller.scrollTop] = scroll;
    ghost = null;
    keyed = null;
    sizeUnplaced();
    await rememberState();
  }

  // An unscheduled session is as tall as it will be on the grid: its length, in rows.
  function sizeUnplaced() {
    if (!grid.querySelector('.sm-hour')) return;
    const perMinute = rowHeight() / slotMinutes();
    area.querySelectorAll('.sm-unplaced').forEach((item) => {
      const minutes = parseInt(item.dataset.duration, 10) || 60;
      item.style.height = Math.max(minutes * perMinute, 28) + 'px';
    });
  }

  async function poll() {
    if (drag || keyed || busy || document.visibilityState !== 'visible') return;
    try {
      const headers = stateTag ? { 'If-None-Match': stateTag } : {};
      const response = await fetch(grid.dataset.stateUrl, { headers, credentials: 'same-origin' });
      if (response.status === 200) {
        const tag = response.headers.get('ETag');
        if (stateTag !== null && tag !== stateTag && !drag && !keyed && !busy) {
          await redraw();
          say('The grid was updated with changes made elsewhere.', '');
        }
        stateTag = tag;
      }
    } catch (e) {
      /* offline for a moment: the next poll tries again */
    }
  }

  // --- pointer: move, resize, place, unschedule ----------------------------------------------
  function targetFor(state, event) {
    // Over the visible part of the grid only (its content runs on under the list when wide).
    const visible = grid.closest('.sm-schedule-scroll');
    const column = columnAt(event.clientX);
    if (!column || !over(visible, event.clientX, event.clientY)) return null;
    const length = state.length;
    if (state.mode === 'resize') {
      const end = Math.max(state.start + step(), snap(minutesAt(event.clientY)));
      return { location: state.location, start: state.start, end: Math.min(end, 24 * 60 - 1) };
    }
    let start = snap(minutesAt(event.clientY) - state.grabOffset);
    start = Math.max(0, Math.min(start, 24 * 60 - length - 1));
    return { location: column.dataset.location, start, end: start + length };
  }

  // Held near an edge of the visible grid while dragging (for more than a moment), the grid
  // scrolls that way, so a drop can reach any hour and any room.
  let edge = null; // {dx, dy, since}
  function autoScroll(event) {
    const visible = grid.closest('.sm-schedule-scroll');
    const box = visible.getBoundingClientRect();
    const zone = 40;
    let dx = 0;
    let dy = 0;
    if (over(visible, event.clientX, event.clientY)) {
      if (event.clientY > box.bottom - zone) dy = 1;
      else if (event.clientY < box.top + zone + headerHeight()) dy = -1;
      if (event.clientX > box.right - zone) dx = 1;
      else if (event.clientX < box.left + zone) dx = -1;
    }
    if (!dx && !dy) {
      edge = null;
      return;
    }
    if (!edge || edge.dx !== dx || edge.dy !== dy) edge = { dx, dy, since: Date.now() };
  }
  setInterval(() => {
    if (!drag || !edge || Date.now() - edge.since < 400) return;
    const visible = grid.closest('.sm-schedule-scroll');
    visible.scrollTop += edge.dy * 15;
    visible.scrollLeft += edge.dx * 15;
  }, 50);

  document.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || busy) return;
    const item = event.target.closest('.sm-block, .sm-unplaced');
    if (!item || !area.contains(item)) return;
    const resizing = event.target.classList.contains('sm-resize');
    const onGrid = item.classList.contains('sm-block');
    const start = onGrid ? parseInt(item.dataset.start, 10) : 0;
    const end = onGrid ? parseInt(item.dataset.end, 10) : parseInt(item.dataset.duration, 10);
    drag = {
      item,
      mode: resizing ? 'resize' : 'move',
      x: event.clientX,
      y: event.clientY,
      started: false,
      start,
      location: item.dataset.location,
      length: end - start,
      grabOffset: onGrid ? minutesAt(event.clientY) - start : 0,
    };
    event.preventDefault(); // no text selection, no native link drag
  });

  document.addEventListener('pointermove', (event) => {
    if (!drag) return;
    if (!drag.started) {
      if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) < DRAG_THRESHOLD) return;
      drag.started = true;
      drag.item.classList.add('sm-dragging');
    }
    autoScroll(event);
    const target = targetFor(drag, event);
    if (target) showGhost(drag.item, target);
    else hideGhost();
    const aside = document.getElementById('sm-unscheduled');
    if (aside) aside.classList.toggle('sm-drop-here', drag.item.classList.contains('sm-block') && over(aside, event.clientX, event.clientY));
  });

  document.addEventListener('pointerup', (event) => {
    if (!drag) return;
    const current = drag;
    drag = null;
    edge = null;
    current.item.classList.remove('sm-dragging');
    const aside = document.getElementById('sm-unscheduled');
    if (aside) aside.classList.remove('sm-drop-here');
    if (!current.started) return; // a click: follow the link as usual
    // The click that ends a drag must not open the session.
    current.item.addEventListener('click', (e) => e.preventDefault(), { once: true, capture: true });
    const target = targetFor(current, event);
    hideGhost();
    if (current.item.classList.contains('sm-block') && over(aside, event.clientX, event.clientY)) {
      move(current.item, null);
    } else if (target) {
      move(current.item, target);
    }
  });

  document.addEventListener('pointercancel', () => {
    if (drag) drag.item.classList.remove('sm-dragging');
    drag = null;
    hideGhost();
  });

  // --- keys: arrows move the focused block, Shift+Up/Down move its end, Enter saves, Escape
  // puts it back, Delete unschedules; an unscheduled session's first arrow puts it at the top of the first room. --
  function firstPlaceFor(item) {
    const ids = columns().map((c) => c.dataset.location);
    if (!ids.length) return null;
    const location = ids.includes(item.dataset.location) ? item.dataset.location : ids[0];
    const start = snap(firstMinute());
    return { item, location, start, end: start + (parseInt(item.dataset.duration, 10) || 60) };
  }

  document.addEventListener('keydown', (event) => {
    const item = event.target.closest && event.target.closest('.sm-block, .sm-unplaced');
    if (!item || !area.contains(item)) return;
    const keys = ['ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'];
    if (keys.includes(event.key)) {
      event.preventDefault();
      if (!keyed || keyed.item !== item) {
        keyed = item.classList.contains('sm-block') ? {
          item,
          location: item.dataset.location,
          start: parseInt(item.dataset.start, 10),
          end: parseInt(item.dataset.end, 10),
        } : firstPlaceFor(item);
        if (!keyed) return;
      }
      const length = keyed.end - keyed.start;
      if (event.shiftKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
        // Shift: the lower edge, as a drag of it would (at least one step long).
        const delta = event.key === 'ArrowUp' ? -step() : step();
        keyed.end = Math.max(keyed.start + step(), Math.min(snap(keyed.end + delta), 24 * 60 - 1));
      } else if (event.key === 'ArrowUp' || event.key === 'ArrowDown') {
        const delta = event.key === 'ArrowUp' ? -step() : step();
        keyed.start = Math.max(0, Math.min(snap(keyed.start + delta), 24 * 60 - length - 1));
        keyed.end = keyed.start + length;
      } else {
        const ids = columns().map((c) => c.dataset.location);
        const index = ids.indexOf(keyed.location) + (event.key === 'ArrowLeft' ? -1 : 1);
        if (index >= 0 && index < ids.length) keyed.location = ids[index];
      }
      showGhost(item, keyed);
      say(item.dataset.name + ': ' + clock(keyed.start) + '–' + clock(keyed.end) + '. Enter saves, Escape cancels.', '');
    } else if (event.key === 'Enter' && keyed && keyed.item === item) {
      event.preventDefault();
      const target = { location: keyed.location, start: keyed.start, end: keyed.end };
      keyed = null;
      hideGhost();
      move(item, target);
    } else if (event.key === 'Delete' && item.classList.contains('sm-block')) {
      event.preventDefault();
      keyed = null;
      hideGhost();
      move(item, null);
    } else if ((event.key === 'p' || event.key === 'P') && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      pin(item);
    } else if (event.key === 'Escape' && keyed) {
      keyed = null;
      hideGhost();
      say('Move cancelled.', '');
    }
  });

  // --- start ---------------------------------------------------------------------------------
  const savedStep = localStorage.getItem('sm-step');
  if (savedStep) stepSelect.value = savedStep;
  stepSelect.addEventListener('change', () => localStorage.setItem('sm-step', stepSelect.value));
  undoButton.disabled = undoStack().length === 0;
  sizeUnplaced();
  followSuggestion();
  poll();
  setInterval(poll, parseInt(grid.dataset.pollMs, 10) || 4000);
})();
