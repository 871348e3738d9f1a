// Herald dashboard, Experiments section: the experiments (GET /v1/experiments), and for the one picked its results
// (GET /v1/experiments/{id}/results): a table per variant (engagement, unsubscribes, conversions, lift, p-value,
// intervals) and a bar chart of the conversion rate per variant with its 95% interval as whiskers. Plain browser
// JavaScript, no build step; every text goes in as text. The API calls go through api-client.js (the key dashboard.js keeps in sessionStorage).
(function () {
  'use strict';

  const { api, errorText, statusLine, whileKeyed } = window.heraldApi;
  const $ = (id) => document.getElementById(id);
  const number = new Intl.NumberFormat();
  const percent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 2 });
  const signedPercent = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  // Okabe-Ito: the control in grey-blue, variants in distinguishable colours, the holdout in grey.
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442'];
  const HOLDOUT_COLOR = '#999999';
  let chart = null;

  const setStatus = statusLine('experiment-status');

  const rate = (r) => (r == null ? 'n/a' : percent.format(r));
  const interval = (ci) => (ci ? `${percent.format(ci[0])} to ${percent.format(ci[1])}` : 'n/a');
  const pValue = (p) => (p == null ? 'n/a' : p < 0.0001 ? '< 0.0001' : p.toFixed(4));
  const points = (d) => (d == null ? 'n/a' : `${d >= 0 ? '+' : '-'}${Math.abs(d * 100).toFixed(2)} pt`);
  const windowText = (seconds) => (seconds % 86400 === 0 ? `${seconds / 86400} days` : seconds % 3600 === 0 ? `${seconds / 3600} hours` : `${Math.round(seconds / 60)} minutes`);

  /** "lift +25.0%, p = 0.0124, difference +2.50 pt (0.54 to 4.46 pt)" against one baseline. */
  function comparisonText(c) {
    if (!c) return '';
    const ci = c.confidenceInterval ? ` (95% CI ${points(c.confidenceInterval[0])} to ${points(c.confidenceInterval[1])})` : '';
    return `lift ${c.lift == null ? 'n/a' : signedPercent.format(c.lift)}, p = ${pValue(c.pValue)}, difference ${points(c.difference)}${ci}`;
  }

  function table(headers, rows) {
    const tableEl = document.createElement('table');
    const head = tableEl.createTHead().insertRow();
    for (const text of headers) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = text;
      head.append(th);
    }
    const body = tableEl.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.dataset.variant = row.variant;
      row.cells.forEach((value, i) => {
        const cell = i === 0 ? document.createElement('th') : tr.insertCell();
        if (i === 0) {
          cell.scope = 'row';
          tr.append(cell);
        } else cell.className = 'num';
        cell.textContent = value;
      });
    }
    return tableEl;
  }

  /** Draws each bar's interval as a whisker: a line from its low to its high end, with caps. */
  function whiskerPlugin(intervals) {
    return {
      id: 'whiskers',
      afterDatasetsDraw(c) {
        const y = c.scales.y;
        const ctx = c.ctx;
        ctx.save();
        ctx.strokeStyle = '#1b1f24';
        ctx.lineWidth = 1.5;
        c.getDatasetMeta(0).data.forEach((bar, i) => {
          const ci = intervals[i];
          if (!ci) return;
          const top = y.getPixelForValue(ci[1]);
          const bottom = y.getPixelForValue(ci[0]);
          const cap = Math.min(10, bar.width / 4);
          ctx.beginPath();
          ctx.moveTo(bar.x, top);
          ctx.lineTo(bar.x, bottom);
          ctx.moveTo(bar.x - cap, top);
          ctx.lineTo(bar.x + cap, top);
          ctx.moveTo(bar.x - cap, bottom);
          ctx.lineTo(bar.x + cap, bottom);
          ctx.stroke();
        });
        ctx.restore();
      },
    };
  }

  function drawChart(results) {
    const variants = results.variants;
    const canvas = $('chart-experiment');
    if (chart) chart.destroy();
    chart = null;
    const colors = variants.map((v, i) => (v.variant === 'holdout' ? HOLDOUT_COLOR : PALETTE[i % PALETTE.length]));
    const intervals = variants.map((v) => v.conversionRateInterval);
    const highest = Math.max(0.01, ...variants.map((v) => (v.conversionRateInterval ? v.conversionRateInterval[1] : v.conversionRate || 0)));
    canvas.setAttribute(
      'aria-label',
      `Conversion rate per variant: ${variants.map((v) => `${v.variant} ${rate(v.conversionRate)} (95% interval ${interval(v.conversionRateInterval)})`).join('; ')}.`,
    );
    if (typeof Chart === 'undefined') return;
    chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels: variants.map((v) => (v.isControl ? `${v.variant} (control)` : v.variant)),
        datasets: [{ label: 'Conversion rate', data: variants.map((v) => v.conversionRate ?? 0), backgroundColor: colors, borderColor: '#1b1f24', borderWidth: 1, maxBarThickness: 80 }],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: (item) => {
                const v = variants[item.dataIndex];
                return `${rate(v.conversionRate)} (${number.format(v.conversions)} of ${number.format(v.assigned)}); 95% interval ${interval(v.conversionRateInterval)}`;
              },
            },
          },
        },
        scales: { y: { beginAtZero: true, suggestedMax: highest * 1.1, ticks: { callback: (value) => percent.format(value) } } },
      },
      plugins: [whiskerPlugin(intervals)],
    });
  }

  function showResults(results) {
    const hasHoldout = results.variants.some((v) => v.variant === 'holdout');
    const headers = [
      'Variant', 'Assigned', 'Sent', 'Delivered', 'Opened', 'Clicked', 'Unsubscribed', 'Conversions', 'Conversion rate', '95% interval',
      'Lift vs control', 'p-value vs control', ...(hasHoldout ? ['Lift vs holdout', 'p-value vs holdout'] : []), 'Window open',
    ];
    const lift = (c) => (c ? (c.lift == null ? 'n/a' : signedPercent.format(c.lift)) : '-');
    const p = (c) => (c ? pValue(c.pValue) : '-');
    const rows = results.variants.map((v) => ({
      variant: v.variant,
      cells: [
        v.isControl ? `${v.variant} (control)` : v.variant,
        number.format(v.assigned), number.format(v.sent), number.format(v.delivered), number.format(v.opened), number.format(v.clicked),
        number.format(v.unsubscribed), number.format(v.conversions), rate(v.conversionRate), interval(v.conversionRateInterval),
        lift(v.vsControl), p(v.vsControl), ...(hasHoldout ? [lift(v.vsHoldout), p(v.vsHoldout)] : []), number.format(v.maturing),
      ],
    }));
    $('experiment-results').replaceChildren(table(headers, rows));
    const lines = results.variants
      .filter((v) => v.vsControl || v.vsHoldout)
      .flatMap((v) => [v.vsControl ? `${v.variant} vs ${v.vsControl.baseline}: ${comparisonText(v.vsControl)}.` : null, v.vsHoldout && results.control !== 'holdout' ? `${v.variant} vs holdout: ${comparisonText(v.vsHoldout)}.` : null])
      .filter(Boolean);
    const maturing = results.variants.reduce((n, v) => n + v.maturing, 0);
    $('experiment-summary').textContent =
      `Conversions: orders confirmed within ${windowText(results.attributionWindowSeconds)} after the send, of every assigned customer. ` +
      (lines.length ? lines.join(' ') : 'No variant to compare yet.') +
      (maturing ? ` ${number.format(maturing)} customers' windows are still open: their conversions may yet come.` : '');
    drawChart(results);
  }

  async function loadResults(experimentId) {
    if (!experimentId) return;
    setStatus(`Loading the results of ${experimentId}...`);
    const res = await api(`/v1/experiments/${encodeURIComponent(experimentId)}/results`);
    if (res.status !== 200) return setStatus(errorText(res, 'The results'), true);
    setStatus(`Results of ${res.body.name} (${res.body.status}), computed ${new Date(res.body.computedAt).toLocaleString()}.`);
    showResults(res.body);
  }

  async function loadList() {
    const res = await api('/v1/experiments?limit=100');
    if (res.status !== 200) return setStatus(errorText(res, 'The experiments'), true);
    const select = $('experiment-select');
    const previous = select.value;
    select.replaceChildren(
      ...res.body.items.map((e) => {
        const option = document.createElement('option');
        option.value = e.experimentId;
        option.textContent = `${e.name} (${e.experimentId}, ${e.notificationType ? `order update ${e.notificationType}` : e.campaignId ? `campaign ${e.campaignId}` : e.kind}, ${e.status})`;
        return option;
      }),
    );
    if (!res.body.items.length) {
      $('experiment-results').replaceChildren();
      $('experiment-summary').textContent = '';
      return setStatus('No experiments yet: create one with PUT /v1/experiments/{experimentId}.');
    }
    if (res.body.items.some((e) => e.experimentId === previous)) select.value = previous;
    await loadResults(select.value);
  }

  const failed = (err) => setStatus(`The experiments could not be loaded: ${err && err.message ? err.message : err}`, true);

  $('experiment-select').addEventListener('change', (event) => void loadResults(event.target.value).catch(failed));
  $('experiments-refresh').addEventListener('click', () => void loadList().catch(failed));

  // The section loads once the page has a key, and empties when it is forgotten.
  whileKeyed(
    () => void loadList().catch(failed),
    () => {
      $('experiment-select').replaceChildren();
      $('experiment-results').replaceChildren();
      $('experiment-summary').textContent = '';
      if (chart) chart.destroy();
      chart = null;
      setStatus('');
    },
  );
})();
