'use strict';
// The session list's filter panel folds away so every column fits: by the organiser's
// choice (kept in this browser), or on its own when the table would be cut otherwise.
{
  const KEY = 'sm-session-filters';
  document.addEventListener('DOMContentLoaded', () => {
    const button = document.getElementById('sm-filter-toggle');
    const list = document.getElementById('changelist');
    const panel = document.getElementById('changelist-filter');
    if (!button || !list || !panel) return;
    const active = Number(button.dataset.active || 0);
    const show = (open) => {
      list.classList.toggle('sm-filters-hidden', !open);
      button.setAttribute('aria-expanded', String(open));
      button.textContent = open ? 'Hide filters'
        : active ? `Show filters (${active} active)` : 'Show filters';
    };
    const results = list.querySelector('.results');
    const cut = () => results && results.scrollWidth > results.clientWidth + 1;
    const chosen = localStorage.getItem(KEY);
    show(chosen !== 'hidden');
    if (chosen === null && cut()) show(false);
    button.hidden = false;
    button.addEventListener('click', () => {
      const open = list.classList.contains('sm-filters-hidden');
      show(open);
      localStorage.setItem(KEY, open ? 'shown' : 'hidden');
      (open ? panel : button).focus?.();
    });
  });
}
