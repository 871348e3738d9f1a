// Herald dashboard: plain browser JavaScript, no build step. The API key lives in sessionStorage
// (this tab only) and goes out in the Authorization header, never in a URL.
(function () {
  'use strict';

  const KEY_STORAGE = 'herald.dashboard.apiKey';
  // bucket=auto: the API fits the bucket and the series' start to where the range has data, so the last
  // hour's notifications are minute bars, not one bar at the right edge of a 24-hour chart.
  const RANGES = {
    '1h': { ms: 3600e3, label: 'the last hour' },
    '24h': { ms: 86400e3, label: 'the last 24 hours' },
    '7d': { ms: 7 * 86400e3, label: 'the last 7 days' },
  };
  const BUCKET_WORDS = { minute: '1-minute', hour: '1-hour', day: '1-day' };
  // Deliberate waits, in the words of the table (the API's labels go in the tooltip).
  const WAIT_NAMES = { quiet_hours: 'quiet hours', digest: 'digest window' };
  const NO_ATTEMPT_NAMES = { suppressed: 'not sent (suppressed)', failed_before_attempt: 'failed before any attempt', pending: 'no attempt yet (pending)', direct: 'no provider (inbox)' };
  const REFRESH_MS = 60e3;
  // Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
  const COLORS = { sent: '#0072B2', failed: '#D55E00', suppressed: '#999999', rate: '#009E73', receipt: '#CC79A7', p50: '#0072B2', p95: '#E69F00', p99: '#D55E00', reason: '#56B4E9' };

  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat();
  const percent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const charts = {};
  let timer = null;
  let loading = false;
  let reloadAfter = false;

  const storedKey = () => sessionStorage.getItem(KEY_STORAGE);
  const rangeName = () => document.querySelector('input[name="range"]:checked').value;

  function setStatus(text, isError) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', Boolean(isError));
  }

  function formatMs(ms) {
    if (ms == null) return 'n/a';
    return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
  }
  const formatRate = (r) => (r == null ? 'n/a' : percent.format(r));

  function bucketLabel(iso, bucket, spansDays) {
    const d = new Date(iso);
    if (bucket === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    if (spansDays) return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  }

  /** Which bucket the charts show, from when: "1-minute buckets from 10:31". */
  function seriesNote(stats, range) {
    if (!stats.bucket || !stats.seriesFrom) return '';
    const from = new Date(stats.seriesFrom).toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    const fitted = stats.bucketAuto ? `, fitted to where ${RANGES[range].label} has data` : '';
    return `Charts: ${BUCKET_WORDS[stats.bucket]} buckets from ${from}${fitted}.`;
  }

  /** A reason's words with its code as secondary text (and tooltip). */
  function labelled(label, code) {
    const span = document.createElement('span');
    span.className = 'labelled';
    span.title = code;
    span.append(document.createTextNode(label));
    if (code && code !== label) {
      const c = document.createElement('code');
      c.className = 'code';
      c.textContent = code;
      span.append(' ', c);
    }
    return span;
  }

  /** Chart.js draws an array label as lines: long reason labels wrap instead of being cut. */
  function wrap(text, width) {
    const lines = [];
    let line = '';
    for (const word of String(text).split(' ')) {
      if (line && (line + ' ' + word).length > width) {
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    if (line) lines.push(line);
    return lines;
  }

  async function api(path) {
    const res = await fetch(path, { headers: { authorization: `Bearer ${storedKey()}`, accept: 'application/json' }, cache: 'no-store' });
    let body = null;
    try {
      body = await res.json();
    } catch {
      // not JSON
    }
    return { status: res.status, body };
  }

  function chart(id, config) {
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), config);
    return charts[id];
  }

  const baseOptions = (extra) => ({
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    layout: { padding: { right: 8 } }, // so a point on the newest bucket is not cut in half
    interaction: { mode: 'index', intersect: false },
    plugins: { legend: { position: 'bottom', labels: { boxWidth: 14 } } },
    ...extra,
  });

  function renderTotals(stats, range) {
    const t = stats.totals;
    const acc = t.latencyMs.accepted;
    const tried = t.sent + t.failed;
    $('totals-summary').textContent =
      `${number.format(t.total)} notifications in ${RANGES[range].label}: ${number.format(t.sent)} accepted by provider, ` +
      `${number.format(t.failed)} failed, ${number.format(t.suppressed)} suppressed, ${number.format(t.pending)} pending. ` +
      `Accepted by provider ${formatRate(t.acceptedRate)} of those tried; delivered (receipt) ${number.format(t.delivered)}` +
      (t.sent ? `, ${formatRate(t.receiptRate)} of those accepted.` : '.');
    // No green for acceptance: it is not delivery. The receipt rate is marked when nothing was confirmed.
    const tiles = [
      ['Notifications', number.format(t.total)],
      ['Accepted by provider', number.format(t.sent), '', tried ? `${formatRate(t.acceptedRate)} of ${number.format(tried)} tried` : 'none tried'],
      ['Delivered (receipt)', number.format(t.delivered), t.sent && !t.delivered ? 'warn' : '', t.sent ? `${formatRate(t.receiptRate)} of ${number.format(t.sent)} accepted` : 'none accepted'],
      ['Failed', number.format(t.failed), t.failed ? 'bad' : ''],
      ['Suppressed', number.format(t.suppressed)],
      ['Pending', number.format(t.pending)],
      ['Accepted by provider rate', formatRate(t.acceptedRate)],
      ['Delivered (receipt) rate', formatRate(t.receiptRate), t.sent && !t.delivered ? 'warn' : '', t.sent && !t.delivered ? 'no delivery receipt came back' : ''],
      ['Failure rate', formatRate(t.failureRate), t.failed ? 'bad' : ''],
      ['Open rate', formatRate(t.openRate), '', t.sent ? `${number.format(t.opened)} of ${number.format(t.sent)} accepted` : 'none accepted'],
      ['Click rate', formatRate(t.clickRate), '', t.sent ? `${number.format(t.clicked)} of ${number.format(t.sent)} accepted` : 'none accepted'],
      ['Bounce rate', formatRate(t.bounceRate), t.bounced ? 'bad' : '', `${number.format(t.bounced)} hard bounces`],
      ['Complaint rate', formatRate(t.complaintRate), t.complained ? 'bad' : '', `${number.format(t.complained)} spam complaints`],
      ['Pipeline latency p50', formatMs(acc.p50)],
      ['Pipeline latency p95', formatMs(acc.p95)],
      ['Pipeline latency p99', formatMs(acc.p99)],
      ...(stats.deliberateWaits || [])
        .filter((w) => w.kind === 'held')
        .map((w) => [`Time held: ${WAIT_NAMES[w.reason] || w.reason} (p95)`, formatMs(w.p95), '', `${number.format(w.count)} held, max ${formatMs(w.max)}`]),
    ];
    const dl = $('totals');
    dl.replaceChildren(
      ...tiles.map(([label, value, cls, note]) => {
        const div = document.createElement('div');
        if (cls) div.className = cls;
        const dt = document.createElement('dt');
        dt.textContent = label;
        const dd = document.createElement('dd');
        dd.textContent = value;
        div.append(dt, dd);
        if (note) {
          const small = document.createElement('dd');
          small.className = 'note';
          small.textContent = note;
          div.append(small);
        }
        return div;
      }),
    );
  }

  function renderWaits(stats) {
    const el = $('waits');
    const waits = stats.deliberateWaits || [];
    if (!waits.length) {
      el.textContent = 'No notification was held or sent as a backup in this range.';
      return;
    }
    el.replaceChildren(
      table(
        [['Wait'], ['Count', 'num'], ['p50', 'num'], ['p95', 'num'], ['Max', 'num']],
        waits.map((w) => [
          w.kind === 'held' ? labelled(`Time held: ${WAIT_NAMES[w.reason] || w.reason}`, w.reason) : labelled(`Wait before a backup: ${w.label}`, w.reason),
          number.format(w.count),
          formatMs(w.p50),
          formatMs(w.p95),
          formatMs(w.max),
        ]),
      ),
    );
  }

  function renderSeries(stats, range) {
    const series = stats.totals.series;
    const spansDays = series.length > 0 && Date.parse(series[series.length - 1].bucketStart) - Date.parse(series[0].bucketStart) >= 86400e3;
    const labels = series.map((p) => bucketLabel(p.bucketStart, stats.bucket, spansDays));
    const per = stats.bucket;
    const t = stats.totals;
    const note = seriesNote(stats, range);
    $('series-note').textContent = note;
    const subtitle = { display: true, text: note.replace(/^Charts: /, ''), padding: { bottom: 6 } };

    chart('chart-volume', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Accepted by provider', data: series.map((p) => p.sent), backgroundColor: COLORS.sent },
          { label: 'Failed', data: series.map((p) => p.failed), backgroundColor: COLORS.failed },
          { label: 'Suppressed', data: series.map((p) => p.suppressed), backgroundColor: COLORS.suppressed },
        ].map((d) => ({ ...d, barPercentage: 1, categoryPercentage: 0.9 })),
      },
      options: baseOptions({
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: `per ${per}` } } },
        plugins: { legend: { position: 'bottom', labels: { boxWidth: 14 } }, subtitle },
      }),
    });
    $('chart-volume').setAttribute('aria-label', `Volume per ${per} over ${RANGES[range].label}: ${t.sent} accepted by provider, ${t.failed} failed, ${t.suppressed} suppressed in total.`);

    chart('chart-rate', {
      type: 'line',
      data: {
        labels,
        datasets: [
          { label: 'Accepted by provider', data: series.map((p) => (p.acceptedRate == null ? null : p.acceptedRate * 100)), borderColor: COLORS.rate, backgroundColor: COLORS.rate, pointRadius: 4, spanGaps: false },
          { label: 'Delivered (receipt), of accepted', pointStyle: 'rect', borderDash: [6, 3], data: series.map((p) => (p.receiptRate == null ? null : p.receiptRate * 100)), borderColor: COLORS.receipt, backgroundColor: COLORS.receipt, pointRadius: 4, spanGaps: false },
        ],
      },
      options: baseOptions({
        scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } }, subtitle, tooltip: { callbacks: { label: (c) => `${c.dataset.label} ${c.parsed.y.toFixed(1)}%` } } },
      }),
    });
    $('chart-rate').setAttribute(
      'aria-label',
      `Accepted by provider and delivered (receipt) per ${per} over ${RANGES[range].label}; accepted by provider ${formatRate(t.acceptedRate)} overall, delivered (receipt) ${formatRate(t.receiptRate)} of those accepted.`,
    );

    const latency = (name, color, dash, pointStyle) => ({
      label: name,
      pointStyle,
      data: series.map((p) => p.latencyMs.accepted[name]),
      borderColor: color,
      backgroundColor: color,
      borderDash: dash,
      pointRadius: 4,
      spanGaps: false,
    });
    chart('chart-latency', {
      type: 'line',
      data: { labels, datasets: [latency('p50', COLORS.p50, [], 'circle'), latency('p95', COLORS.p95, [6, 3], 'rect'), latency('p99', COLORS.p99, [2, 2], 'triangle')] },
      options: baseOptions({
        scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true, title: { display: true, text: 'milliseconds' } } },
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } }, subtitle, tooltip: { callbacks: { label: (c) => `${c.dataset.label} ${formatMs(c.parsed.y)}` } } },
      }),
    });
    const acc = t.latencyMs.accepted;
    $('chart-latency').setAttribute('aria-label', `Pipeline latency (deliberate waits left out) to provider acceptance per ${per}; overall p50 ${formatMs(acc.p50)}, p95 ${formatMs(acc.p95)}, p99 ${formatMs(acc.p99)}.`);
  }

  function renderReasons(canvasId, emptyId, listId, entries, noun) {
    const empty = entries.length === 0;
    $(emptyId).hidden = !empty;
    $(canvasId).parentElement.hidden = empty;
    // The labels in words, each with its code as secondary text.
    $(listId).replaceChildren(
      ...entries.map((e) => {
        const li = document.createElement('li');
        const count = document.createElement('span');
        count.className = 'count';
        count.textContent = number.format(e.count);
        li.append(count, labelled(e.label || e.reason, e.reason));
        return li;
      }),
    );
    if (empty) {
      if (charts[canvasId]) charts[canvasId].destroy();
      delete charts[canvasId];
      return;
    }
    // One row per reason, so a single reason is not one giant bar; long labels wrap over two or three lines.
    const lines = entries.map((e) => wrap(e.label || e.reason, 38));
    $(canvasId).parentElement.style.height = `${Math.max(120, 48 + lines.reduce((n, l) => n + Math.max(34, l.length * 16 + 10), 0))}px`;
    chart(canvasId, {
      type: 'bar',
      data: {
        labels: lines,
        datasets: [{ label: noun, data: entries.map((e) => e.count), backgroundColor: COLORS.reason, borderColor: '#1f6f9f', borderWidth: 1, maxBarThickness: 24 }],
      },
      options: baseOptions({
        indexAxis: 'y',
        plugins: { legend: { display: false }, tooltip: { callbacks: { title: (items) => `${entries[items[0].dataIndex].label || entries[items[0].dataIndex].reason} (${entries[items[0].dataIndex].reason})` } } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      }),
    });
    const named = (e) => (e.label && e.label !== e.reason ? `${e.label} (${e.reason})` : e.reason);
    $(canvasId).setAttribute('aria-label', `${noun} by reason: ${entries.map((e) => `${named(e)} ${e.count}`).join(', ')}.`);
  }

  function table(headers, rows) {
    const tableEl = document.createElement('table');
    const head = tableEl.createTHead().insertRow();
    for (const [text, cls] of headers) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = text;
      if (cls) th.className = cls;
      head.append(th);
    }
    const body = tableEl.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      if (row.className) tr.className = row.className;
      row.forEach((value, i) => {
        const td = tr.insertCell();
        if (value instanceof Node) td.append(value);
        else td.textContent = value == null || value === '' ? '-' : String(value);
        if (headers[i][1]) td.className = headers[i][1];
      });
    }
    return tableEl;
  }

  function renderGroups(stats) {
    // Providers first; then what never reached one (suppressed, failed before any attempt), labelled as such.
    const groups = [...stats.groups].sort((a, b) => Number(a.key.provider == null) - Number(b.key.provider == null));
    const rows = groups.map((g) => {
      const provider = g.key.provider ?? labelled(NO_ATTEMPT_NAMES[g.key.noAttempt] || g.key.providerLabel || 'no attempt', g.key.noAttempt || '');
      const row = [
        g.key.channel,
        provider,
        number.format(g.total),
        number.format(g.sent),
        number.format(g.delivered),
        number.format(g.failed),
        number.format(g.suppressed),
        formatRate(g.acceptedRate),
        formatRate(g.receiptRate),
        formatRate(g.openRate),
        formatRate(g.clickRate),
        formatMs(g.latencyMs.accepted.p95),
      ];
      if (g.key.provider == null) row.className = 'no-attempt';
      return row;
    });
    const el = $('groups');
    if (!rows.length) {
      el.textContent = 'No notifications in this range.';
      return;
    }
    el.replaceChildren(
      table(
        [
          ['Channel'],
          ['Provider'],
          ['Total', 'num'],
          ['Accepted by provider', 'num'],
          ['Delivered (receipt)', 'num'],
          ['Failed', 'num'],
          ['Suppressed', 'num'],
          ['Accepted rate', 'num'],
          ['Receipt rate', 'num'],
          ['Open rate', 'num'],
          ['Click rate', 'num'],
          ['p95 pipeline latency', 'num'],
        ],
        rows,
      ),
    );
  }

  /** Sums the engagement counts of the groups that share `keyOf` (each notification is in exactly one group). */
  function engagementBy(groups, keyOf) {
    const by = new Map();
    for (const g of groups) {
      const key = keyOf(g);
      const e = by.get(key) || { key, sent: 0, opened: 0, clicked: 0, bounced: 0, complained: 0, reached: 0 };
      e.sent += g.sent;
      e.opened += g.opened;
      e.clicked += g.clicked;
      e.bounced += g.bounced;
      e.complained += g.complained;
      // The bounce and complaint rates' denominator, as api/stats.ts defines it: sent + bounced.
      e.reached += g.sent + g.bounced;
      by.set(key, e);
    }
    const rate = (part, whole) => (whole ? part / whole : null);
    return [...by.values()]
      .sort((a, b) => b.sent - a.sent || String(a.key).localeCompare(String(b.key)))
      .map((e) => [e.key, number.format(e.sent), formatRate(rate(e.opened, e.sent)), formatRate(rate(e.clicked, e.sent)), formatRate(rate(e.bounced, e.reached)), formatRate(rate(e.complained, e.reached))]);
  }

  const ENGAGEMENT_HEADERS = [['Accepted by provider', 'num'], ['Open rate', 'num'], ['Click rate', 'num'], ['Bounce rate', 'num'], ['Complaint rate', 'num']];

  /** Engagement per channel and per notification type (from a channel,type grouping), and the top templates by click rate. */
  function renderEngagement(stats, byChannelType) {
    const groups = byChannelType.groups;
    const fill = (id, rows, first) => {
      const el = $(id);
      if (!rows.length) el.textContent = 'No notifications in this range.';
      else el.replaceChildren(table([[first], ...ENGAGEMENT_HEADERS], rows));
    };
    fill('engagement-channels', engagementBy(groups, (g) => g.key.channel), 'Channel');
    fill('engagement-types', engagementBy(groups, (g) => g.key.type), 'Notification type');
    const top = stats.topTemplatesByClickRate || [];
    const el = $('top-templates');
    if (!top.length) {
      el.textContent = 'No template had an accepted notification in this range.';
      return;
    }
    el.replaceChildren(
      table(
        [['Template'], ['Channel'], ['Locale'], ['Version', 'num'], ['Accepted by provider', 'num'], ['Open rate', 'num'], ['Click rate', 'num']],
        top.map((t) => [t.template.key, t.template.channel, t.template.locale, t.template.version, number.format(t.sent), formatRate(t.openRate), formatRate(t.clickRate)]),
      ),
    );
  }

  async function loadDeadLetters() {
    const el = $('dead-letters');
    let res;
    try {
      res = await api('/v1/dead-letters?limit=10');
    } catch {
      el.textContent = 'Dead letters could not be loaded (network error).';
      return;
    }
    if (res.status === 404) {
      el.textContent = 'Dead letters: not available on this server.';
      return;
    }
    if (res.status !== 200) {
      el.textContent = `Dead letters could not be loaded: ${res.body?.error?.message ?? `HTTP ${res.status}`}`;
      return;
    }
    const items = Array.isArray(res.body?.items) ? res.body.items : [];
    if (!items.length) {
      el.textContent = 'No dead letters.';
      return;
    }
    const when = (d) => (d ? new Date(d).toLocaleString() : null);
    const lastError = (d) => {
      const e = d.lastError ?? d.error ?? d.reason;
      return e && typeof e === 'object' ? [e.code, e.message].filter(Boolean).join(': ') || JSON.stringify(e) : e;
    };
    el.replaceChildren(
      table(
        [['When'], ['Order'], ['Customer'], ['Channel'], ['Provider'], ['Device'], ['Last error', 'error-text'], ['Replays', 'num']],
        items.map((d) => [
          when(d.createdAt),
          d.orderId,
          d.customerId,
          d.channel,
          d.provider,
          d.target ? [d.target.deviceId, d.target.platform].filter(Boolean).join(' / ') : d.deviceId,
          lastError(d),
          [d.replayCount ?? 0, d.replayStatus].filter((x) => x != null).join(' / '),
        ]),
      ),
    );
  }

  async function load() {
    if (!storedKey()) return;
    if (loading) {
      reloadAfter = true; // the range changed mid-load: load again once this one is done
      return;
    }
    loading = true;
    const range = rangeName();
    const { ms } = RANGES[range];
    const to = new Date();
    const from = new Date(to.getTime() - ms);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), groupBy: 'channel,provider', bucket: 'auto' });
    setStatus('Loading...');
    try {
      const res = await api(`/v1/stats?${query}`);
      if (res.status === 401) {
        forget();
        setStatus('That API key was not accepted. Enter a valid key.', true);
        return;
      }
      if (res.status === 403) {
        forget();
        setStatus('This API key lacks the read scope. Enter a key with read access.', true);
        return;
      }
      if (res.status !== 200) {
        setStatus(`Statistics could not be loaded: ${res.body?.error?.message ?? `HTTP ${res.status}`}`, true);
        return;
      }
      showSession();
      const stats = res.body;
      renderTotals(stats, range);
      renderSeries(stats, range);
      renderWaits(stats);
      renderReasons('chart-failures', 'failures-empty', 'failures-list', stats.totals.failuresByReason, 'Failures');
      renderReasons('chart-suppressions', 'suppressions-empty', 'suppressions-list', stats.totals.suppressionReasons, 'Suppressions');
      renderGroups(stats);
      const engagement = await api(`/v1/stats?${new URLSearchParams({ from: query.get('from'), to: query.get('to'), groupBy: 'channel,type' })}`);
      if (engagement.status !== 200) throw new Error(engagement.body?.error?.message ?? `HTTP ${engagement.status}`);
      renderEngagement(stats, engagement.body);
      await loadDeadLetters();
      $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}; times are in your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`;
      setStatus('');
      document.body.dataset.loaded = 'true';
    } catch (err) {
      setStatus(`Statistics could not be loaded: ${err && err.message ? err.message : err}`, true);
    } finally {
      loading = false;
      if (reloadAfter) {
        reloadAfter = false;
        void load();
      }
    }
  }

  function showSession() {
    const key = storedKey();
    $('key-form').hidden = true;
    $('session').hidden = false;
    $('session-key').textContent = `Key ${key.slice(0, 6)}...`;
    $('main').hidden = false;
    if (!timer) timer = setInterval(() => document.visibilityState === 'visible' && load(), REFRESH_MS);
  }

  function forget() {
    sessionStorage.removeItem(KEY_STORAGE);
    clearInterval(timer);
    timer = null;
    $('main').hidden = true;
    $('session').hidden = true;
    $('key-form').hidden = false;
    delete document.body.dataset.loaded;
    $('api-key').value = '';
    $('api-key').focus();
  }

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('api-key').value = '';
    void load();
  });
  $('forget').addEventListener('click', () => {
    forget();
    setStatus('Key forgotten.');
  });
  $('refresh').addEventListener('click', () => void load());
  for (const radio of document.querySelectorAll('input[name="range"]')) radio.addEventListener('change', () => void load());

  if (typeof Chart === 'undefined') {
    setStatus('The chart library did not load.', true);
    return;
  }
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = '#374151';
  if (storedKey()) void load();
  else $('api-key').focus();
})();
