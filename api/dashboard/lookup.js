// Herald dashboard, Orders section: one search box for an order id, a customer id or an event id, the order's
// timeline (each event, what went on which channel to which device or address, what waited and until when, what
// was suppressed or escalated and why, each receipt, the run in the Temporal Web UI), the customer view, and the
// rejected events. Plain browser JavaScript, no build step; every text goes in as text (no innerHTML with data).
// The API calls go through api-client.js (the key the page keeps in sessionStorage; dashboard.js asks for it).
(function () {
  'use strict';

  const { api, el, errorText, statusLine, whileKeyed } = window.heraldApi;
  const $ = (id) => document.getElementById(id);

  const DISPOSITIONS = {
    received: 'received, not processed yet',
    announced: 'announced to the customer',
    out_of_order: 'out of order: older than what the customer was already told, so not announced',
  };
  const LIVE_STATES = {
    idle: 'idle',
    sending: 'sending',
    'waiting-for-events': 'waiting for the next event',
    'waiting-quiet-hours': "waiting for the customer's quiet hours to end",
    'waiting-digest': 'waiting for a digest window to close',
    'awaiting-receipt': 'waiting for a delivery receipt',
    escalating: 'sending backups',
    done: 'done',
  };

  /** A time as the operator reads it (their zone), with the exact instant in its datetime attribute. */
  function time(iso) {
    if (!iso) return '-';
    const d = new Date(iso);
    return el('time', { datetime: d.toISOString(), title: d.toISOString() }, d.toLocaleString());
  }

  /** A code's label, with the code itself as secondary text. */
  function reason(label, code) {
    return el('span', { className: 'reason' }, label || code, code && label && code !== label ? el('code', { className: 'code' }, code) : null);
  }

  /** A lookup that could not finish (the network, the API) says so instead of staying on "Loading...". */
  function failed(err) {
    setStatus(`The lookup failed: ${err && err.message ? err.message : err}`, true);
  }

  const setStatus = statusLine('lookup-status');


  // ---------------------------------------------------------------------------------------- one notification

  /** Where it went: the devices (app device ids) of its attempts for push, or its address. */
  function target(n) {
    const devices = [...new Set(n.attempts.filter((a) => a.deviceId).map((a) => `${a.deviceId}${a.platform ? ` (${a.platform})` : ''}`))];
    if (devices.length) return `device ${devices.join(', ')}`;
    if (n.address) return n.address;
    return n.channel === 'push' ? 'no device' : n.channel === 'inapp' ? 'the in-app inbox' : 'no address';
  }

  function notificationItem(n, at) {
    const facts = [];
    if (n.holdReason) facts.push(['Held', [reason(n.holdLabel, n.holdReason), ' until ', time(n.heldUntil)]]);
    if (n.suppressionReason) facts.push(['Suppressed', reason(n.suppressionLabel, n.suppressionReason)]);
    if (n.failureReason) facts.push(['Failed', reason(n.failureLabel, n.failureReason)]);
    if (n.escalation) facts.push(['Escalated', [`step ${n.escalation.step}: `, n.escalation.reason ? reason(n.escalation.label, n.escalation.reason) : 'a backup of the plan']]);
    if (n.replacedBy) facts.push(['Replaced by', el('code', {}, n.replacedBy)]);
    const attempts = n.attempts.map((a) =>
      el(
        'li',
        {},
        `attempt ${a.attemptNumber} via ${a.provider}`,
        a.deviceId ? ` to device ${a.deviceId}` : a.address ? ` to ${a.address}` : '',
        `: ${a.status}`,
        a.errorCode || a.errorMessage ? ` (${[a.errorCode, a.errorMessage].filter(Boolean).join(': ')})` : '',
        ' at ',
        time(a.finishedAt || a.startedAt),
      ),
    );
    return el(
      'li',
      { className: `entry notification status-${n.status}`, 'data-notification-id': n.notificationId },
      el('p', { className: 'entry-head' }, el('strong', {}, n.channel), ` to ${target(n)}: `, el('span', { className: 'badge' }, n.status), ' · ', time(at)),
      facts.length ? el('dl', { className: 'facts' }, facts.map(([term, value]) => el('div', {}, el('dt', {}, term), el('dd', {}, value)))) : null,
      el('p', { className: 'explanation' }, n.explanation),
      attempts.length ? el('ul', { className: 'attempts', 'aria-label': 'Attempts' }, attempts) : null,
    );
  }

  function receiptItem(r, at) {
    return el(
      'li',
      { className: 'entry receipt' },
      el('p', { className: 'entry-head' }, 'Receipt ', el('span', { className: 'badge' }, r.type), ` for ${r.notificationId.split('/').pop()} from ${r.source} · `, time(at)),
    );
  }

  function entriesList(entries) {
    if (!entries.length) return el('p', { className: 'empty' }, 'Nothing was sent for it.');
    return el('ul', { className: 'entries' }, entries.map((e) => (e.kind === 'notification' ? notificationItem(e.notification, e.at) : receiptItem(e.receipt, e.at))));
  }

  function eventsList(events, level) {
    if (!events.length) return el('p', { className: 'empty' }, 'No accepted events.');
    return el(
      'ol',
      { className: 'timeline' },
      events.map((e) =>
        el(
          'li',
          { className: 'event', 'data-event-id': e.eventId },
          el(`h${level}`, {}, `${e.status} `, el('code', { className: 'code' }, e.eventId)),
          el('p', { className: 'help' }, 'Occurred ', time(e.occurredAt), ', received ', time(e.receivedAt), ` from ${e.source}; ${DISPOSITIONS[e.disposition] || e.disposition}.`),
          entriesList(e.entries),
        ),
      ),
    );
  }

  // ------------------------------------------------------------------------------------------ the order view

  function workflowPart(w) {
    const facts = [
      ['Workflow', el('code', {}, w.workflowId)],
      ['Run', w.runId ? el('code', {}, w.runId) : 'none found'],
      ['Run status', w.status || '-'],
    ];
    if (w.live) {
      facts.push(['Now', LIVE_STATES[w.live.notificationState] || w.live.notificationState]);
      for (const h of w.live.held) {
        facts.push(['Held', [h.channel ? `${h.channel}: ` : '', reason(h.label || h.reason, h.reason), ' until ', time(h.until)]]);
      }
      if (w.live.waitingFor) {
        const wf = w.live.waitingFor;
        facts.push(['Waiting for', [`a receipt for ${wf.notificationId} until `, time(wf.until), wf.then.length ? `, then ${wf.then.join(' and ')}` : '']]);
      }
      if (w.live.completesAt) facts.push(['Completes', time(w.live.completesAt)]);
    }
    return el(
      'section',
      { className: 'workflow', 'aria-labelledby': 'lookup-workflow-title' },
      el('h4', { id: 'lookup-workflow-title' }, 'Workflow'),
      el('dl', { className: 'facts' }, facts.map(([term, value]) => el('div', {}, el('dt', {}, term), el('dd', {}, value)))),
      w.uiUrl ? el('p', {}, el('a', { href: w.uiUrl, target: '_blank', rel: 'noopener noreferrer', className: 'run-link' }, 'Open the run in the Temporal Web UI')) : null,
      w.note ? el('p', { className: 'note' }, w.note) : null,
    );
  }

  function renderOrder(t) {
    const customer = t.customerId
      ? el('button', { type: 'button', className: 'link', onclick: () => void showCustomer(t.customerId).catch(failed) }, t.customerId)
      : 'unknown';
    $('lookup-result').replaceChildren(
      el(
        'article',
        { className: 'order', 'aria-labelledby': 'lookup-order-title', 'data-order-id': t.orderId },
        el('h3', { id: 'lookup-order-title', tabindex: '-1' }, 'Order ', t.orderId),
        el('p', {}, 'Customer ', customer, t.position && t.position.status ? ` · last status ${t.position.status}` : ''),
        workflowPart(t.workflow),
        el('h4', {}, 'Events'),
        t.eventsOmitted ? el('p', { className: 'help' }, `${t.eventsOmitted} older events are not shown.`) : null,
        eventsList(t.events, 5),
        t.otherEntries.length ? [el('h4', {}, 'Other notifications of the order'), entriesList(t.otherEntries)] : null,
      ),
    );
    $('lookup-order-title').focus();
  }

  async function showOrder(orderId) {
    setStatus(`Loading order ${orderId}...`);
    const res = await api(`/v1/orders/${encodeURIComponent(orderId)}/timeline`);
    if (res.status !== 200) return setStatus(errorText(res, `Order ${orderId}`), true);
    renderOrder(res.body);
    setStatus(`Order ${orderId}: ${res.body.events.length} events.`);
  }

  // --------------------------------------------------------------------------------------- the customer view

  function renderCustomer(c) {
    const p = c.profile;
    const profile = p
      ? el(
          'dl',
          { className: 'facts' },
          [
            ['Name', p.name || '-'],
            ['Email', p.email || '-'],
            ['Phone', p.phone || '-'],
            ['Locale and zone', `${p.locale}, ${p.timeZone}`],
            ['Quiet hours', p.quietHours ? `${p.quietHours.start} to ${p.quietHours.end}` : 'none'],
          ].map(([term, value]) => el('div', {}, el('dt', {}, term), el('dd', {}, value))),
        )
      : el('p', { className: 'empty' }, 'No profile.');
    const devices = c.devices.length
      ? el(
          'ul',
          { className: 'devices' },
          c.devices.map((d) =>
            el('li', {}, el('code', {}, d.deviceId), ` ${d.platform}${d.app ? ` (${d.app})` : ''}: ${d.active ? 'active' : `inactive${d.invalidatedReason ? `, ${d.invalidatedReason}` : ''}`}, last seen `, time(d.lastSeenAt)),
          ),
        )
      : el('p', { className: 'empty' }, 'No registered devices.');
    const orders = c.orders.length
      ? el(
          'ul',
          { className: 'orders' },
          c.orders.map((o) =>
            el(
              'li',
              { 'data-order-id': o.orderId },
              el('button', { type: 'button', className: 'link', onclick: () => void showOrder(o.orderId).catch(failed) }, `Order ${o.orderId}`),
              ' · last activity ',
              time(o.lastActivityAt),
              eventsList(o.events, 5),
            ),
          ),
        )
      : el('p', { className: 'empty' }, 'No orders.');
    $('lookup-result').replaceChildren(
      el(
        'article',
        { className: 'customer', 'aria-labelledby': 'lookup-customer-title', 'data-customer-id': c.customerId },
        el('h3', { id: 'lookup-customer-title', tabindex: '-1' }, 'Customer ', c.customerId),
        profile,
        el('h4', {}, 'Devices'),
        devices,
        el('h4', {}, 'Orders, most recent first'),
        orders,
        c.nextCursor ? el('p', { className: 'help' }, 'Older orders are not shown; search for one by its id.') : null,
      ),
    );
    $('lookup-customer-title').focus();
  }

  async function showCustomer(customerId) {
    setStatus(`Loading customer ${customerId}...`);
    const res = await api(`/v1/customers/${encodeURIComponent(customerId)}/timeline?limit=20`);
    if (res.status !== 200) return setStatus(errorText(res, `Customer ${customerId}`), true);
    renderCustomer(res.body);
    setStatus(`Customer ${customerId}: ${res.body.orders.length} orders.`);
  }

  // ------------------------------------------------------------------------------------------------- search

  async function search(q) {
    $('lookup-matches').replaceChildren();
    $('lookup-result').replaceChildren();
    setStatus(`Looking up ${q}...`);
    const res = await api(`/v1/lookup?${new URLSearchParams({ q })}`);
    if (res.status === 400) return setStatus(`"${q}" cannot be an id: ids have only letters, digits, '.', '_', ':' and '-'.`, true);
    if (res.status !== 200) return setStatus(errorText(res, 'The lookup'), true);
    const matches = res.body.matches;
    if (!matches.length) return setStatus(`No order, customer or event has the id ${q}.`, true);
    const open = (m) => (m.kind === 'customer' ? showCustomer(m.customerId) : showOrder(m.orderId));
    if (matches.length > 1) {
      $('lookup-matches').replaceChildren(
        el('p', {}, `${q} is more than one thing:`),
        el('ul', {}, matches.map((m) => el('li', {}, el('button', { type: 'button', className: 'link', onclick: () => void open(m).catch(failed) }, m.kind === 'event' ? `event of order ${m.orderId}` : `${m.kind} ${m.id}`)))),
      );
    }
    await open(matches[0]);
  }

  // ---------------------------------------------------------------------------------------- rejected events

  async function loadRejected() {
    const box = $('rejected-events');
    box.setAttribute('aria-busy', 'true');
    let res;
    try {
      res = await api('/v1/rejected-events?limit=20');
    } catch {
      res = { status: 0, body: null };
    }
    box.removeAttribute('aria-busy');
    if (res.status !== 200) {
      box.replaceChildren(el('p', { role: 'status', className: 'error' }, errorText(res, 'Rejected events')));
      return;
    }
    const items = res.body.items;
    if (!items.length) {
      box.replaceChildren(el('p', { className: 'empty' }, 'No rejected events.'));
      return;
    }
    const head = el('tr', {}, ['Received', 'Critical', 'Source', 'Event', 'Order', 'Status', 'Reason', 'Errors'].map((h) => el('th', { scope: 'col' }, h)));
    const rows = items.map((r) =>
      el(
        'tr',
        { className: r.critical ? 'critical' : null, 'data-rejected-id': r.rejectedEventId },
        el('td', {}, time(r.receivedAt)),
        el('td', {}, r.critical ? 'critical' : 'no'),
        el('td', {}, r.sourceId || r.source || '-'),
        el('td', {}, r.eventId || '-'),
        el('td', {}, r.orderId || '-'),
        el('td', {}, r.status || '-'),
        el('td', {}, el('code', {}, r.reason)),
        el('td', { className: 'error-text' }, el('ul', {}, r.errors.map((e) => el('li', {}, el('code', {}, e.field), `: ${e.reason}`)))),
      ),
    );
    box.replaceChildren(el('table', {}, el('caption', { className: 'help' }, 'Open ones, critical first, then newest.'), el('thead', {}, head), el('tbody', {}, rows)));
  }

  // ------------------------------------------------------------------------------------------------- wiring

  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = $('lookup-q').value.trim();
    if (q) void search(q).catch(failed);
  });
  $('rejected-refresh').addEventListener('click', () => void loadRejected().catch(failed));

  // The section shows once the page has a key: load the rejected events then; empty it when the key is forgotten.
  whileKeyed(
    () => void loadRejected().catch(failed),
    () => {
      $('lookup-result').replaceChildren();
      $('lookup-matches').replaceChildren();
      $('rejected-events').replaceChildren();
      setStatus('');
    },
  );
})();
