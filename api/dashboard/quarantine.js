// Herald dashboard, the critical rejects: how many open rejected events have a critical status (a customer is
// waiting to hear about a shipment, a delay, a cancellation) and the newest few, with their source, order and
// reason, each linking to its API item (opened here with the page's key). Plain browser JavaScript, no build step;
// every text goes in as text. The API calls go through api-client.js.
(function () {
  'use strict';

  const { api, el, errorText, whileKeyed } = window.heraldApi;
  const $ = (id) => document.getElementById(id);
  const NEWEST = 5;
  const REASONS = {
    not_json: 'Not a JSON object',
    missing_field: 'A required field is missing',
    invalid_field: 'A field is invalid',
    mapping_failed: "The source's mapping failed",
    invalid_customer: 'The customer it carried is invalid',
  };

  function time(iso) {
    const d = new Date(iso);
    return el('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
  }

  /** The API item, fetched with the page's key (a plain link would carry none), shown under its row. */
  async function showItem(event, path, target) {
    event.preventDefault();
    const res = await api(path);
    target.hidden = false;
    target.textContent = res.status === 200 ? JSON.stringify(res.body, null, 2) : errorText(res, path);
  }

  async function loadCriticalRejects() {
    const box = $('critical-rejects');
    const count = $('critical-rejects-count');
    const section = $('critical-rejects-section');
    box.setAttribute('aria-busy', 'true');
    let res;
    try {
      res = await api(`/v1/rejected-events?${new URLSearchParams({ status: 'open', critical: 'true', limit: String(NEWEST) })}`);
    } catch {
      res = { status: 0, body: null };
    }
    box.removeAttribute('aria-busy');
    if (res.status !== 200) {
      count.textContent = '';
      box.replaceChildren(el('p', { role: 'status', className: 'error' }, errorText(res, 'Critical rejected events')));
      return;
    }
    const { items, total } = res.body;
    section.classList.toggle('alert', total > 0);
    count.textContent = total === 0 ? 'None open.' : `${total} open critical rejected event${total === 1 ? '' : 's'}: customers waiting to hear.`;
    if (!items.length) {
      box.replaceChildren();
      return;
    }
    const head = el('tr', {}, ['Received', 'Source', 'Order', 'Status', 'Reason', 'API item'].map((h) => el('th', { scope: 'col' }, h)));
    const rows = items.flatMap((r) => {
      const path = `/v1/rejected-events/${encodeURIComponent(r.rejectedEventId)}`;
      const detail = el('pre', { className: 'item', hidden: true });
      return [
        el(
          'tr',
          { 'data-critical-reject-id': r.rejectedEventId },
          el('td', {}, time(r.receivedAt)),
          el('td', {}, r.sourceId || r.source || '-'),
          el('td', {}, r.orderId || '-'),
          el('td', {}, r.status || '-'),
          el('td', {}, el('span', {}, REASONS[r.reason] || r.reason), ' ', el('code', { className: 'code' }, r.reason)),
          el('td', {}, el('a', { href: path, onclick: (e) => void showItem(e, path, detail) }, path)),
        ),
        el('tr', { className: 'detail' }, el('td', { colspan: 6 }, detail)),
      ];
    });
    const more = total > items.length ? `The newest ${items.length} of ${total}.` : 'Newest first.';
    box.replaceChildren(el('table', {}, el('caption', { className: 'help' }, more), el('thead', {}, head), el('tbody', {}, rows)));
  }

  const reload = () => void loadCriticalRejects();
  $('critical-rejects-refresh').addEventListener('click', reload);
  $('refresh').addEventListener('click', reload);
  whileKeyed(reload, () => {
    $('critical-rejects').replaceChildren();
    $('critical-rejects-count').textContent = '';
  });
})();
