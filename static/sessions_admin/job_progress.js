'use strict';
// The page of a background job (an import, an export) follows the job without reloading
// itself: every few seconds it reads the page again, updates its status lines in place (live
// regions, so screen readers hear the progress) and, once the job is done, shows the result.
// A page whose scripts hold on to its elements (the schedule grid) says data-reload: once
// done it is loaded again whole, so that they start afresh on the result.
{
  const script = document.currentScript;
  const seconds = Math.max(1, parseInt(script.dataset.refresh, 10) || 2);
  const check = async () => {
    let page;
    try {
      const response = await fetch(window.location.href, { credentials: 'same-origin' });
      page = new DOMParser().parseFromString(await response.text(), 'text/html');
    } catch (e) {
      return setTimeout(check, seconds * 1000); // the next try will tell
    }
    const fresh = page.getElementById('content-main');
    const current = document.getElementById('content-main');
    if (!fresh || !current) return;
    if (page.querySelector('script[data-refresh]')) {
      fresh.querySelectorAll('[role=status][id]').forEach((line) => {
        const here = document.getElementById(line.id);
        if (here && here.textContent !== line.textContent) here.textContent = line.textContent;
      });
      setTimeout(check, seconds * 1000);
    } else if (script.hasAttribute('data-reload')) {
      window.location.reload();
    } else {
      current.replaceWith(fresh); // done: the result, the download, the report
    }
  };
  setTimeout(check, seconds * 1000);
}
