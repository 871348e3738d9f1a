// Herald dashboard: plain browser JavaScript, no build step. The API key lives in sessionStorage
// (this tab only) and goes out in the Authorization header, never in a URL.
(function () {
  'use strict';

  const KEY_STORAGE = 'herald.dashboard.apiKey';
  const RANGES = {
    '1h': { ms: 3600e3, bucket: 'minute', label: 'the last hour' },
    '24h': { ms: 86400e3, bucket: 'hour', label: 'the last 24 hours' },
    '7d': { ms: 7 * 86400e3, bucket: 'hour', label: 'the last 7 days' },
  };
  const REFRESH_MS = 60e3;
  // Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
  const COLORS = { sent: '#0072B2', failed: '#D55E00', suppressed: '#999999', rate: '#009E73', p50: '#0072B2', p95: '#E69F00', p99: '#D55E00', reason: '#56B4E9' };

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

  function bucketLabel(iso, bucket, range) {
    const d = new Date(iso);
    if (bucket === 'day') return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
    if (range === '7d') return d.toLocaleString(undefined, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
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
    $('totals-summary').textContent =
      `${number.format(t.total)} notifications in ${RANGES[range].label}: ${number.format(t.sent)} sent, ` +
      `${number.format(t.failed)} failed, ${number.format(t.suppressed)} suppressed, ${number.format(t.pending)} pending. ` +
      `Delivery rate ${formatRate(t.deliveryRate)}.`;
    const tiles = [
      ['Notifications', number.format(t.total)],
      ['Sent', number.format(t.sent)],
      ['Delivered (receipt)', number.format(t.delivered)],
      ['Failed', number.format(t.failed), t.failed ? 'bad' : ''],
      ['Suppressed', number.format(t.suppressed)],
      ['Pending', number.format(t.pending)],
      ['Delivery rate', formatRate(t.deliveryRate), 'good'],
      ['Failure rate', formatRate(t.failureRate), t.failed ? 'bad' : ''],
      ['Latency p50', formatMs(acc.p50)],
      ['Latency p95', formatMs(acc.p95)],
      ['Latency p99', formatMs(acc.p99)],
    ];
    const dl = $('totals');
    dl.replaceChildren(
      ...tiles.map(([label, value, cls]) => {
        const div = document.createElement('div');
        if (cls) div.className = cls;
        const dt = document.createElement('dt');
        dt.textContent = label;
        const dd = document.createElement('dd');
        dd.textContent = value;
        div.append(dt, dd);
        return div;
      }),
    );
  }

  function renderSeries(stats, range) {
    const series = stats.totals.series;
    const labels = series.map((p) => bucketLabel(p.bucketStart, stats.bucket, range));
    const per = stats.bucket === 'minute' ? 'minute' : stats.bucket;
    const t = stats.totals;

    chart('chart-volume', {
      type: 'bar',
      data: {
        labels,
        datasets: [
          { label: 'Sent', data: series.map((p) => p.sent), backgroundColor: COLORS.sent },
          { label: 'Failed', data: series.map((p) => p.failed), backgroundColor: COLORS.failed },
          { label: 'Suppressed', data: series.map((p) => p.suppressed), backgroundColor: COLORS.suppressed },
        ].map((d) => ({ ...d, barPercentage: 1, categoryPercentage: 0.9 })),
      },
      options: baseOptions({
        scales: { x: { stacked: true, ticks: { maxTicksLimit: 12 } }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: `per ${per}` } } },
      }),
    });
    $('chart-volume').setAttribute('aria-label', `Volume per ${per} over ${RANGES[range].label}: ${t.sent} sent, ${t.failed} failed, ${t.suppressed} suppressed in total.`);

    chart('chart-rate', {
      type: 'line',
      data: {
        labels,
        datasets: [{ label: 'Delivery rate', data: series.map((p) => (p.deliveryRate == null ? null : p.deliveryRate * 100)), borderColor: COLORS.rate, backgroundColor: COLORS.rate, pointRadius: 4, spanGaps: false }],
      },
      options: baseOptions({
        scales: { x: { ticks: { maxTicksLimit: 12 } }, y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: (c) => `Delivery rate ${c.parsed.y.toFixed(1)}%` } } },
      }),
    });
    $('chart-rate').setAttribute('aria-label', `Delivery rate per ${per} over ${RANGES[range].label}; ${formatRate(t.deliveryRate)} overall.`);

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
        plugins: { legend: { position: 'bottom', labels: { usePointStyle: true } }, tooltip: { callbacks: { label: (c) => `${c.dataset.label} ${formatMs(c.parsed.y)}` } } },
      }),
    });
    const acc = t.latencyMs.accepted;
    $('chart-latency').setAttribute('aria-label', `Latency from order event to provider acceptance per ${per}; overall p50 ${formatMs(acc.p50)}, p95 ${formatMs(acc.p95)}, p99 ${formatMs(acc.p99)}.`);
  }

  function renderReasons(canvasId, emptyId, entries, noun) {
    const empty = entries.length === 0;
    $(emptyId).hidden = !empty;
    $(canvasId).parentElement.hidden = empty;
    if (empty) {
      if (charts[canvasId]) charts[canvasId].destroy();
      delete charts[canvasId];
      return;
    }
    // One row per reason, so a single reason is not one giant bar.
    $(canvasId).parentElement.style.height = `${Math.max(120, 48 + entries.length * 34)}px`;
    chart(canvasId, {
      type: 'bar',
      data: {
        labels: entries.map((e) => e.reason),
        datasets: [{ label: noun, data: entries.map((e) => e.count), backgroundColor: COLORS.reason, borderColor: '#1f6f9f', borderWidth: 1, maxBarThickness: 24 }],
      },
      options: baseOptions({ indexAxis: 'y', plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }),
    });
    $(canvasId).setAttribute('aria-label', `${noun} by reason: ${entries.map((e) => `${e.reason} ${e.count}`).join(', ')}.`);
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
      row.forEach((value, i) => {
        const td = tr.insertCell();
        td.textContent = value == null || value === '' ? '-' : String(value);
        if (headers[i][1]) td.className = headers[i][1];
      });
    }
    return tableEl;
  }

  function renderGroups(stats) {
    const rows = stats.groups.map((g) => [
      g.key.channel,
      g.key.provider ?? '(none)',
      number.format(g.total),
      number.format(g.sent),
      number.format(g.failed),
      number.format(g.suppressed),
      formatRate(g.deliveryRate),
      formatMs(g.latencyMs.accepted.p95),
    ]);
    const el = $('groups');
    if (!rows.length) {
      el.textContent = 'No notifications in this range.';
      return;
    }
    el.replaceChildren(
      table(
        [['Channel'], ['Provider'], ['Total', 'num'], ['Sent', 'num'], ['Failed', 'num'], ['Suppressed', 'num'], ['Delivery rate', 'num'], ['p95 latency', 'num']],
        rows,
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
    const { ms, bucket } = RANGES[range];
    const to = new Date();
    const from = new Date(to.getTime() - ms);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(), groupBy: 'channel,provider', bucket });
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
      renderReasons('chart-failures', 'failures-empty', stats.totals.failuresByReason, 'Failures');
      renderReasons(
        'chart-suppressions',
        'suppressions-empty',
        Object.entries(stats.totals.suppressedByReason).map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count),
        'Suppressions',
      );
      renderGroups(stats);
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
