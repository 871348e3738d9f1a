// Herald dashboard: what every section shares to talk to the API: the key dashboard.js keeps in sessionStorage,
// a GET that answers { status, body } (body null when it is not JSON), an error text from such an answer, and a
// status line setter. Plain browser JavaScript, loaded before the sections that use it.
(function () {
  'use strict';

  const KEY_STORAGE = 'herald.dashboard.apiKey';

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE)}`, accept: 'application/json' }, cache: 'no-store' });
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }

  const errorText = (res, what) => `${what} could not be loaded: ${res.body && res.body.error ? res.body.error.message : `HTTP ${res.status}`}`;

  /** A function that writes a section's status line (element `id`), marked as an error when `isError`. */
  const statusLine = (id) => (text, isError) => {
    const status = document.getElementById(id);
    status.textContent = text;
    status.classList.toggle('error', Boolean(isError));
  };

  /**
   * A section's life with the key: `load` once the page shows with a key (dashboard.js reveals the page), again for a
   * new key; `clear` when the key is forgotten.
   */
  function whileKeyed(load, clear) {
    let loadedFor = null;
    const main = document.getElementById('main');
    const sync = () => {
      const key = sessionStorage.getItem(KEY_STORAGE);
      if (!main.hidden && key && key !== loadedFor) {
        loadedFor = key;
        load();
      }
      if (!key) {
        loadedFor = null;
        clear();
      }
    };
    new MutationObserver(sync).observe(main, { attributes: true, attributeFilter: ['hidden'] });
    sync();
  }

  /** An element with attributes and children; strings become text nodes, null and false are skipped. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (name === 'className') node.className = value;
      else if (name === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
    }
    return node;
  }

  window.heraldApi = Object.freeze({ KEY_STORAGE, api, el, errorText, statusLine, whileKeyed });
})();
