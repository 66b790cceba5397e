"""The reviewer's workbench: the review screen's page script (click-to-seek, follow-along,
keyboard, the ``?call=`` scroll), kept here as one string so that it ships with the package.

``build_app`` runs :data:`JS` once per page through a hidden ``gr.HTML``'s ``js_on_load``
(Gradio 6 moved ``js=`` / ``head=`` from ``gr.Blocks`` to ``launch()``). The script relies
only on this DOM contract, made by ``review_ui.render`` and ``review_ui.review_layout``:

- ``#transcript .qa-turn[data-start][data-end][data-index]``: a turn and its times (seconds);
  ``mark.qa-mark[data-start][data-tag]`` inside it: tag evidence (``data-tag`` may hold
  several names, space-separated);
- ``#tags tr[data-tag]``: a tag row, with ``data-start`` / ``data-end`` (or ``data-turn``,
  looked up among the turns) when its evidence is in a turn;
- ``#recording``: the ``gr.Audio``. Gradio 6.31 plays through WaveSurfer, whose ``<audio>``
  lives in the shadow root of the waveform's ``div`` under ``#recording``; without the
  waveform (``WaveformOptions(show_recording_waveform=False)``) the light-DOM
  ``audio.standard-player`` plays. The script takes whichever has a source;
- ``#confirm-tag``, ``#reject-tag``, ``#next-call`` (buttons, the id on the ``button`` or on
  a wrapper), ``#tag-choice`` (a dropdown that accepts custom values), ``#call-header
  [data-call-id]`` (present once a call is open).

It adds the classes ``qa-current`` (the turn being played) and ``qa-focus`` (the turn moved
to with j / k, or clicked); ``render.CSS`` styles both. ``window.qaWorkbench`` exposes
``media()`` and ``seek(seconds, play)`` for debugging and the browser tests.
"""

from __future__ import annotations

# Plain JavaScript (no build step); runs as the body of a function (Gradio's js_on_load).
JS = r"""
if (window.qaWorkbench) return;  // once per page, whatever re-mounts the component

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';
const turns = () => Array.from(document.querySelectorAll('#transcript .qa-turn[data-start]'));
const seconds = (el, name) => {
  const v = parseFloat(el && el.getAttribute(name));
  return Number.isFinite(v) ? v : null;
};

// ---- the recording's media element ------------------------------------------------------
function media() {
  const root = document.querySelector('#recording');
  if (!root) return null;
  for (const a of root.querySelectorAll('audio, video')) {
    if (a.currentSrc || a.getAttribute('src')) return a;  // the plain HTML5 player
  }
  for (const host of root.querySelectorAll('*')) {  // WaveSurfer's, in its shadow root
    const a = host.shadowRoot && host.shadowRoot.querySelector('audio, video');
    if (a) return a;
  }
  return null;
}

const bound = new WeakSet();
function bind() {
  const m = media();
  if (m && !bound.has(m)) {
    bound.add(m);
    for (const ev of ['timeupdate', 'seeked', 'play', 'pause', 'emptied']) {
      m.addEventListener(ev, () => follow(m));
    }
  }
  return m;
}

function seek(t, play) {
  const m = bind();
  if (!m || t === null) return false;
  m.currentTime = Math.max(0, t);
  if (play && m.paused) m.play().catch(() => {});
  follow(m);
  return true;
}

// ---- follow-along -------------------------------------------------------------------------
let current = null;
function follow(m) {
  const t = m.currentTime;
  const turn = turns().find((el) => seconds(el, 'data-start') <= t && t < seconds(el, 'data-end'));
  if (turn === current) return;
  if (current) current.classList.remove('qa-current');
  current = turn || null;
  if (current) {
    current.classList.add('qa-current');
    if (!m.paused) reveal(current);
  }
}

// Scroll the transcript box (not the page) so that ``el`` is visible, centred if it was not.
function reveal(el) {
  const box = el.closest('.qa-transcript');
  if (!box) return;
  const b = box.getBoundingClientRect();
  const r = el.getBoundingClientRect();
  if (r.top >= b.top && r.bottom <= b.bottom) return;
  box.scrollTop += r.top - b.top - Math.max(0, (b.height - r.height) / 2);
}

// ---- focus: j / k and clicks --------------------------------------------------------------
let focused = null;
function focusTurn(el) {
  if (focused && focused !== el) focused.classList.remove('qa-focus');
  focused = el;
  if (el) {
    el.classList.add('qa-focus');
    reveal(el);
  }
}

function step(by) {
  const all = turns();
  if (!all.length) return;
  let at = all.indexOf(focused);
  if (at < 0) at = current ? all.indexOf(current) : -1;
  const next = at < 0 ? (by > 0 ? 0 : all.length - 1)
    : Math.min(all.length - 1, Math.max(0, at + by));
  focusTurn(all[next]);
  seek(seconds(all[next], 'data-start'), false);  // keeps playing if it was, else stays paused
}

// ---- the tag dropdown -----------------------------------------------------------------------
// Makes tag ``name`` (its hit in turn ``turn``, when the list offers one) the chosen "Tag on
// this call": opens #tag-choice and picks the option as a reviewer would (Gradio's dropdown
// picks on mousedown). Options are matched by label: "NAME · turn N: …" (one hit), then
// "NAME (whole call)", then "NAME"; without a match, or without the dropdown, nothing happens.
function chooseTag(name, turn) {
  const input = document.querySelector('#tag-choice input');
  if (!name || !input) return;
  const wanted = [
    (label) => turn !== null && label.startsWith(`${name} · turn ${turn}:`),
    (label) => label === `${name} (whole call)`,
    (label) => label === name,
  ];
  const pick = () => {
    const opts = Array.from(document.querySelectorAll('#tag-choice [role=option]'));
    if (!opts.length) return false;
    for (const test of wanted) {
      const opt = opts.find((o) => test(o.getAttribute('aria-label') || ''));
      if (opt) {
        opt.dispatchEvent(new MouseEvent('mousedown', { bubbles: true, cancelable: true }));
        opt.dispatchEvent(new MouseEvent('mouseup', { bubbles: true, cancelable: true }));
        opt.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true }));
        break;
      }
    }
    return true;
  };
  input.focus();
  input.click();
  let tries = 0;
  const again = () => {
    if (pick() || ++tries >= 20) input.blur();
    else setTimeout(again, 25);
  };
  again();
}

function clickButton(id) {
  const el = document.getElementById(id);
  const btn = el && (el.tagName === 'BUTTON' ? el : el.querySelector('button'));
  if (btn && !btn.disabled) btn.click();
}

const firstTag = (mark) => (mark.getAttribute('data-tag') || '').split(' ')[0];

// ---- events (delegated: Gradio re-renders the HTML whenever a call opens) ------------------
document.addEventListener('click', (e) => {
  if (!(e.target instanceof Element) || e.button !== 0) return;
  if (String(window.getSelection() || '')) return;  // selecting text to copy, not seeking
  const row = e.target.closest('#tags tr[data-tag]');
  const mark = e.target.closest('#transcript mark.qa-mark, #survey mark.qa-mark');
  const turn = e.target.closest('#transcript .qa-turn[data-start]');
  if (row) {
    let start = seconds(row, 'data-start');
    const n = row.getAttribute('data-turn');
    const el = n === null ? null
      : document.querySelector(`#transcript .qa-turn[data-index="${n}"]`);
    if (start === null && el) start = seconds(el, 'data-start');
    if (el) focusTurn(el);
    seek(start, true);
    chooseTag(row.getAttribute('data-tag'), n);
  } else if (turn) {
    focusTurn(turn);
    seek(seconds(mark, 'data-start') ?? seconds(turn, 'data-start'), true);
    if (mark) chooseTag(firstTag(mark), turn.getAttribute('data-index'));
  } else if (mark) {
    chooseTag(firstTag(mark), null);
  }
});

let spaceDown = false;
document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  if (e.target instanceof Element && e.target.closest(TYPING)) return;
  const keys = {
    ' ': () => {
      const m = bind();
      if (!m) return false;
      if (m.paused) m.play().catch(() => {}); else m.pause();
      spaceDown = true;  // and not the focused button's click on keyup
    },
    j: () => step(1),
    k: () => step(-1),
    y: () => clickButton('confirm-tag'),
    n: () => clickButton('reject-tag'),
    ']': () => clickButton('next-call'),
  };
  const act = keys[e.key];
  if (act && act() !== false) e.preventDefault();
});
document.addEventListener('keyup', (e) => {
  if (e.key === ' ' && spaceDown) {
    spaceDown = false;
    e.preventDefault();
  }
});

// Bind the media element as soon as Gradio creates it, so follow-along works with the
// player's own buttons too (batched: one look per frame at most).
let queued = false;
new MutationObserver(() => {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => { queued = false; bind(); });
}).observe(document.body, { childList: true, subtree: true });

// ---- ?call=ID: bring the opened call into view once it has loaded ----------------------------
if (new URLSearchParams(location.search).has('call')) {
  let moved = false;  // the reader scrolled or typed: leave the page where it is
  for (const ev of ['wheel', 'touchmove', 'keydown', 'mousedown']) {
    window.addEventListener(ev, () => { moved = true; }, { once: true, passive: true });
  }
  const toHeader = () => {
    const h = document.querySelector('#call-header [data-call-id]');
    if (!h || moved) return !!h;
    document.getElementById('call-header').scrollIntoView({ block: 'start' });
    return true;
  };
  const started = Date.now();
  const wait = setInterval(() => {
    if (toHeader() || Date.now() - started > 30000) {
      clearInterval(wait);
      // the calls table above may still grow as it fills in: settle again a few times
      for (const ms of [300, 800, 1500, 2500]) setTimeout(toHeader, ms);
    }
  }, 100);
}

window.qaWorkbench = { media: bind, seek: (t, play) => seek(t, !!play) };
"""
