// The /monitor page: reads this origin's GET /v1/monitoring every few seconds and draws it as SVG. No storage, no
// third-party requests; the API key, when one is needed, lives in the password field only.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  /** The time axis spans the history with traffic, at least this much, so a fresh start is not a sliver. */
  const MIN_SPAN_MS = 5 * 60 * 1000;
  const SVG = 'http://www.w3.org/2000/svg';
  const STATUS_WORDS = {
    ok: 'OK',
    drifting: 'Drifting',
    warming_up: 'Warming up',
    no_reference: 'No reference',
  };
  const NO_REFERENCE = 'No reference profile: run npm run model:profile on photos the model should see.';

  const $ = (id) => document.getElementById(id);
  const modelSelect = $('model-select');
  const apiKeyInput = $('api-key');
  const pauseButton = $('pause-button');

  let latest;
  let timer;
  let paused = false;

  // ---- small helpers ----

  const percent = (share, digits = 1) => `${(share * 100).toFixed(digits)}\u00a0%`;
  const labelText = (label) => label.replace(/_/g, ' ');
  const clockTime = (iso) =>
    new Date(iso).toLocaleTimeString([], {
      hourCycle: 'h23',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });

  function svgNode(name, attributes = {}, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function authHeaders() {
    const key = apiKeyInput.value.trim();
    return key ? { 'X-API-Key': key } : {};
  }

  /** A round upper bound for an axis: 1, 2 or 5 times a power of ten. */
  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    return [1, 2, 5, 10].map((step) => step * power).find((bound) => bound >= value);
  }

  function formatAxis(value) {
    return value >= 10 || value === 0 ? value.toFixed(0) : value.toPrecision(2).replace(/\.?0+$/, '');
  }

  /** Clears `svg` and sizes it to its container; the plot area inside the margins. */
  function frame(svg, height, margin = { left: 40, right: 12, top: 10, bottom: 26 }) {
    const width = Math.max(260, Math.floor(svg.parentElement.clientWidth));
    svg.replaceChildren();
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('width', String(width));
    svg.setAttribute('height', String(height));
    return {
      width,
      height,
      left: margin.left,
      right: width - margin.right,
      top: margin.top,
      bottom: height - margin.bottom,
    };
  }

  function emptyMessage(svg, box, text) {
    svg.append(
      svgNode(
        'text',
        { x: box.width / 2, y: box.height / 2, class: 'empty-text', 'text-anchor': 'middle' },
        text,
      ),
    );
  }

  /** The y axis: gridlines and labels at 0, half and `max`. */
  function yAxis(svg, box, max, format = formatAxis) {
    for (const fraction of [0, 0.5, 1]) {
      const y = box.bottom - fraction * (box.bottom - box.top);
      svg.append(svgNode('line', { x1: box.left, x2: box.right, y1: y, y2: y, class: 'grid' }));
      svg.append(
        svgNode(
          'text',
          { x: box.left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' },
          format(max * fraction),
        ),
      );
    }
  }

  /** From the oldest slot shown (at least MIN_SPAN_MS back) to the end of the slot filling now, in ms. */
  function timeRange(model, overview) {
    const slotMs = overview.slot_seconds * 1000;
    const to = Math.ceil(Date.parse(overview.generated_at) / slotMs) * slotMs;
    const first = model.series.length > 0 ? Date.parse(model.series[0].start) : to;
    return { from: Math.max(to - overview.history_seconds * 1000, Math.min(first, to - MIN_SPAN_MS)), to };
  }

  /** The time axis from `from` to `to` (ms), labelled with clock times. */
  function timeAxis(svg, box, { from, to }) {
    const x = (t) => box.left + ((t - from) / (to - from)) * (box.right - box.left);
    const ticks = box.right - box.left > 400 ? [0, 0.25, 0.5, 0.75, 1] : [0, 0.5, 1];
    for (const fraction of ticks) {
      const t = from + fraction * (to - from);
      const anchor = fraction === 0 ? 'start' : fraction === 1 ? 'end' : 'middle';
      svg.append(
        svgNode(
          'text',
          { x: x(t), y: box.bottom + 18, class: 'tick', 'text-anchor': anchor },
          new Date(t).toLocaleTimeString([], { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' }),
        ),
      );
    }
    return x;
  }

  // ---- the charts ----

  function drawRate(model, overview) {
    const svg = $('chart-rate');
    const box = frame(svg, 180);
    const range = timeRange(model, overview);
    const slots = model.series.filter((slot) => slot.predictions > 0);
    if (slots.length === 0) {
      emptyMessage(svg, box, 'No traffic yet');
      $('rate-summary').textContent = 'No predictions in the last hour.';
      return;
    }
    const peak = Math.max(...slots.map((slot) => slot.predictions_per_second));
    const max = niceMax(peak);
    yAxis(svg, box, max);
    const x = timeAxis(svg, box, range);
    const slotMs = overview.slot_seconds * 1000;
    const slotWidth = Math.max(1, ((box.right - box.left) * slotMs) / (range.to - range.from) - 1);
    for (const slot of slots) {
      const start = Date.parse(slot.start);
      const height = (slot.predictions_per_second / max) * (box.bottom - box.top);
      const bar = svgNode('rect', {
        class: 'bar rate-bar',
        x: x(start),
        y: box.bottom - height,
        width: slotWidth,
        height,
      });
      bar.append(svgNode('title', {}, `${clockTime(slot.start)}: ${slot.predictions_per_second} per second`));
      svg.append(bar);
    }
    const last = slots[slots.length - 1];
    $('rate-summary').textContent =
      `${model.totals.predictions} predictions in the last hour; peak ${peak} per second; ` +
      `latest ${last.predictions_per_second} per second at ${clockTime(last.start)}.`;
  }

  function shares(counts) {
    const total = counts.reduce((sum, count) => sum + count, 0);
    return counts.map((count) => (total > 0 ? count / total : 0));
  }

  function drawConfidence(model) {
    const svg = $('chart-confidence');
    const box = frame(svg, 200);
    const { edges, counts, reference_counts: referenceCounts } = model.confidence;
    const now = shares(counts);
    const reference = referenceCounts ? shares(referenceCounts) : undefined;
    const max = niceMax(Math.max(...now, ...(reference ?? [0])));
    yAxis(svg, box, max, (value) => `${Math.round(value * 100)}%`);
    const group = (box.right - box.left) / edges.length;
    const barWidth = Math.max(2, group * (reference ? 0.38 : 0.6));
    const y = (share) => box.bottom - (share / max) * (box.bottom - box.top);
    edges.forEach((edge, index) => {
      const left = box.left + index * group + group * 0.1;
      const range = `${index === 0 ? 0 : Math.round(edges[index - 1] * 100)}–${Math.round(edge * 100)} %`;
      const nowBar = svgNode('rect', {
        class: 'bar bar-now',
        x: left,
        y: y(now[index]),
        width: barWidth,
        height: box.bottom - y(now[index]),
      });
      nowBar.append(svgNode('title', {}, `${range}: ${percent(now[index])} in the last hour`));
      svg.append(nowBar);
      if (reference) {
        const referenceBar = svgNode('rect', {
          class: 'bar bar-reference',
          x: left + barWidth,
          y: y(reference[index]),
          width: barWidth,
          height: box.bottom - y(reference[index]),
        });
        referenceBar.append(svgNode('title', {}, `${range}: ${percent(reference[index])} of the reference`));
        svg.append(referenceBar);
      }
      if (group >= 26 || index % 2 === 1 || index === edges.length - 1) {
        svg.append(
          svgNode(
            'text',
            { x: left + barWidth, y: box.bottom + 16, class: 'tick', 'text-anchor': 'middle' },
            String(Math.round(edge * 100)),
          ),
        );
      }
    });
    const total = counts.reduce((sum, count) => sum + count, 0);
    const under = (limit) => now.reduce((sum, share, index) => sum + (edges[index] <= limit ? share : 0), 0);
    const referenceUnder = (limit) =>
      reference.reduce((sum, share, index) => sum + (edges[index] <= limit ? share : 0), 0);
    $('confidence-summary').textContent =
      (total > 0
        ? `${percent(under(0.5))} of the last hour's answers are at 50 % or under`
        : 'No answers in the last hour') +
      (reference ? `; ${percent(referenceUnder(0.5))} of the reference's. ` : `. ${NO_REFERENCE} `) +
      'Buckets are labelled by their upper bound in percent.';
  }

  function drawClasses(model) {
    const svg = $('chart-classes');
    const { classes, other } = model.class_mix;
    const rows = [
      ...classes,
      ...(other.count > 0 || other.reference_share > 0 ? [{ label: 'other', ...other }] : []),
    ];
    const rowHeight = 30;
    const width = Math.max(260, Math.floor(svg.parentElement.clientWidth));
    const labelWidth = Math.min(170, Math.max(96, Math.round(width * 0.34)));
    const box = frame(svg, Math.max(80, rows.length * rowHeight + 30), {
      left: labelWidth,
      right: 56,
      top: 6,
      bottom: 24,
    });
    if (rows.length === 0) {
      emptyMessage(svg, box, 'No traffic yet');
      $('classes-summary').textContent = `No answers in the last hour. ${NO_REFERENCE}`;
      return;
    }
    const hasReference = rows.some((row) => row.reference_share !== undefined);
    const max = niceMax(Math.max(...rows.map((row) => Math.max(row.share, row.reference_share ?? 0))));
    const x = (share) => box.left + (share / max) * (box.right - box.left);
    const maxChars = Math.floor((labelWidth - 8) / 7);
    rows.forEach((row, index) => {
      const top = box.top + index * rowHeight;
      const text = labelText(row.label);
      const label = svgNode(
        'text',
        { x: box.left - 6, y: top + 15, class: 'class-label', 'text-anchor': 'end', 'data-label': row.label },
        text.length > maxChars ? `${text.slice(0, maxChars - 1)}…` : text,
      );
      label.append(svgNode('title', {}, text));
      svg.append(label);
      const barHeight = hasReference ? 11 : 18;
      const nowBar = svgNode('rect', {
        class: 'bar bar-now',
        x: box.left,
        y: top + 3,
        width: x(row.share) - box.left,
        height: barHeight,
      });
      nowBar.append(svgNode('title', {}, `${text}: ${percent(row.share)} of the last hour (${row.count})`));
      svg.append(nowBar);
      if (hasReference) {
        const referenceBar = svgNode('rect', {
          class: 'bar bar-reference',
          x: box.left,
          y: top + 3 + barHeight,
          width: x(row.reference_share ?? 0) - box.left,
          height: barHeight,
        });
        referenceBar.append(
          svgNode('title', {}, `${text}: ${percent(row.reference_share ?? 0)} of the reference`),
        );
        svg.append(referenceBar);
      }
      svg.append(
        svgNode(
          'text',
          { x: x(row.share) + 4, y: top + (hasReference ? 12 : 16), class: 'value' },
          percent(row.share, 0),
        ),
      );
    });
    svg.append(
      svgNode('line', { x1: box.left, x2: box.left, y1: box.top, y2: box.bottom, class: 'axis' }),
      svgNode(
        'text',
        { x: box.right, y: box.bottom + 18, class: 'tick', 'text-anchor': 'end' },
        percent(max, 0),
      ),
    );
    $('classes-summary').textContent =
      rows
        .map(
          (row) =>
            `${labelText(row.label)} ${percent(row.share, 0)}` +
            (row.reference_share !== undefined ? ` (reference ${percent(row.reference_share, 0)})` : ''),
        )
        .join(', ') + (hasReference ? '.' : `. ${NO_REFERENCE}`);
  }

  /** Lines over the time axis: `lines` of { className, points: [[ms, value]] }, dashed `thresholds` of { value }. */
  function drawLines(svg, range, lines, { max, thresholds = [], format }) {
    const box = frame(svg, 180);
    yAxis(svg, box, max, format);
    const x = timeAxis(svg, box, range);
    const y = (value) => box.bottom - (Math.min(value, max) / max) * (box.bottom - box.top);
    for (const threshold of thresholds) {
      svg.append(
        svgNode('line', {
          x1: box.left,
          x2: box.right,
          y1: y(threshold.value),
          y2: y(threshold.value),
          class: `threshold ${threshold.className}`,
        }),
        svgNode(
          'text',
          { x: box.right, y: y(threshold.value) - 4, class: 'tick', 'text-anchor': 'end' },
          threshold.label,
        ),
      );
    }
    for (const line of lines) {
      if (line.points.length > 1) {
        const path = line.points.map(([t, value]) => `${x(t).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
        svg.append(svgNode('polyline', { points: path, class: `line ${line.className}` }));
      }
      for (const [t, value] of line.points) {
        const point = svgNode('circle', { cx: x(t), cy: y(value), r: 2.5, class: `point ${line.className}` });
        point.append(svgNode('title', {}, `${clockTime(new Date(t).toISOString())}: ${line.format(value)}`));
        svg.append(point);
      }
    }
    return box;
  }

  function drawDrift(model, overview) {
    const svg = $('chart-drift');
    const sampled = model.series.filter((slot) => slot.drift_scores);
    const { thresholds, status, reason } = model.monitoring;
    const score = (value) => value.toFixed(3);
    const box = drawLines(
      svg,
      timeRange(model, overview),
      [
        {
          className: 'confidence',
          format: score,
          points: sampled.map((slot) => [Date.parse(slot.start), slot.drift_scores.confidence]),
        },
        {
          className: 'class-mix',
          format: score,
          points: sampled.map((slot) => [Date.parse(slot.start), slot.drift_scores.class_mix]),
        },
      ],
      {
        max: 1,
        thresholds: [
          {
            value: thresholds.confidence,
            className: 'confidence',
            label: `confidence ${thresholds.confidence}`,
          },
          { value: thresholds.class_mix, className: 'class-mix', label: `class mix ${thresholds.class_mix}` },
        ],
      },
    );
    if (sampled.length === 0) {
      emptyMessage(svg, box, status === 'no_reference' ? 'No reference profile' : 'Not judged yet');
      $('drift-summary').textContent = status === 'no_reference' ? NO_REFERENCE : reason;
      return;
    }
    const last = sampled[sampled.length - 1].drift_scores;
    $('drift-summary').textContent =
      `Latest: confidence ${score(last.confidence)} (threshold ${thresholds.confidence}), ` +
      `class mix ${score(last.class_mix)} (threshold ${thresholds.class_mix}).`;
  }

  function drawRates(model, overview) {
    const svg = $('chart-rates');
    const slots = model.series.filter((slot) => slot.predictions > 0);
    $('rates-note').textContent =
      `Share of each 10 s slot's answers under ${percent(overview.low_confidence_threshold, 0)} confidence ` +
      '(QUALITY_LOW_CONFIDENCE), and withheld because under the min_confidence in force.';
    const rate = (value) => percent(value);
    const box = drawLines(
      svg,
      timeRange(model, overview),
      [
        {
          className: 'low-confidence',
          format: rate,
          points: slots.map((slot) => [Date.parse(slot.start), slot.low_confidence_rate]),
        },
        {
          className: 'abstention',
          format: rate,
          points: slots.map((slot) => [Date.parse(slot.start), slot.abstention_rate]),
        },
      ],
      { max: 1, format: (value) => `${Math.round(value * 100)}%` },
    );
    if (slots.length === 0) {
      emptyMessage(svg, box, 'No traffic yet');
      $('rates-summary').textContent = 'No answers in the last hour.';
      return;
    }
    const { predictions, low_confidence: low, abstentions } = model.totals;
    $('rates-summary').textContent =
      `Last hour: ${percent(low / predictions)} low confidence (${low} of ${predictions}), ` +
      `${percent(abstentions / predictions)} withheld (${abstentions}).`;
  }

  // ---- the rest of the page ----

  function drawStatus(model, overview) {
    const { status, reason, window: driftWindow } = model.monitoring;
    $('model-heading').textContent = `${model.name}, version ${model.version}`;
    const card = $('status-card');
    card.className = `status-card status-${status}`;
    const badge = `Drift status: ${STATUS_WORDS[status] ?? status}`;
    // Only written when it changes, so a screen reader hears a change and not every refresh.
    if ($('status-badge').textContent !== badge) $('status-badge').textContent = badge;
    if ($('status-reason').textContent !== reason) $('status-reason').textContent = reason;
    const { predictions, abstentions, low_confidence: low } = model.totals;
    const minuteAgo = Date.parse(overview.generated_at) - 60_000;
    const lastMinute = model.series
      .filter((slot) => Date.parse(slot.start) >= minuteAgo)
      .reduce((sum, slot) => sum + slot.predictions, 0);
    const terms = [
      ['Predictions, last hour', String(predictions)],
      ['Per second, last minute', String(Number((lastMinute / 60).toFixed(2)))],
      [
        `Under ${percent(overview.low_confidence_threshold, 0)}`,
        predictions ? `${percent(low / predictions)} (${low})` : '–',
      ],
      ['Withheld', predictions ? `${percent(abstentions / predictions)} (${abstentions})` : '–'],
      ['Drift window', `${driftWindow.predictions} of ${driftWindow.max_predictions} answers`],
    ];
    $('totals').replaceChildren(
      ...terms.map(([term, value]) => {
        const wrap = document.createElement('div');
        const dt = document.createElement('dt');
        dt.textContent = term;
        const dd = document.createElement('dd');
        dd.textContent = value;
        wrap.append(dt, dd);
        return wrap;
      }),
    );
    $('no-traffic').hidden = predictions > 0;
  }

  function drawLatest(model) {
    const rows = model.low_confidence.map((answer) => {
      const row = document.createElement('tr');
      const candidates = document.createElement('ol');
      candidates.className = 'candidates';
      for (const one of answer.top) {
        const item = document.createElement('li');
        item.textContent = `${labelText(one.label)} ${percent(one.confidence)}`;
        candidates.append(item);
      }
      const when = document.createElement('span');
      when.textContent = clockTime(answer.at);
      const via = document.createElement('span');
      via.className = 'via';
      via.textContent = `via ${answer.protocol}`;
      for (const content of [[when, via], [candidates], [answer.abstained ? 'yes' : 'no']]) {
        const cell = document.createElement('td');
        cell.append(...content);
        row.append(cell);
      }
      return row;
    });
    $('latest-rows').replaceChildren(...rows);
    $('latest-empty').hidden = rows.length > 0;
    $('latest-table').hidden = rows.length === 0;
  }

  function fillModelSelect(models) {
    const names = models.map((model) => model.name);
    const current = [...modelSelect.options].map((option) => option.value);
    if (names.join('\n') !== current.join('\n')) {
      const previous = modelSelect.value;
      modelSelect.replaceChildren(...names.map((name) => new Option(name, name, false, name === previous)));
    }
    $('model-field').hidden = models.length < 2;
  }

  function render() {
    const overview = latest;
    if (!overview) return;
    fillModelSelect(overview.models);
    const model = overview.models.find((one) => one.name === modelSelect.value) ?? overview.models[0];
    $('no-model').hidden = Boolean(model);
    $('model-view').hidden = !model;
    if (!model) return;
    drawStatus(model, overview);
    drawRate(model, overview);
    drawConfidence(model);
    drawClasses(model);
    drawDrift(model, overview);
    drawRates(model, overview);
    drawLatest(model);
    $('updated').textContent = `Updated ${clockTime(overview.generated_at)}`;
  }

  function showProblem(title, detail) {
    $('problem-title').textContent = title;
    $('problem-detail').textContent = detail || '';
    $('problem').hidden = false;
  }

  async function problemOf(response) {
    try {
      const body = await response.json();
      if (body && typeof body.title === 'string') return { title: body.title, detail: body.detail };
    } catch {
      // not JSON
    }
    return { title: `The service answered ${response.status}`, detail: response.statusText };
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await fetch('/v1/monitoring', { headers: authHeaders() });
      if (response.status === 401) {
        $('key-form').hidden = false;
        const { title, detail } = await problemOf(response);
        showProblem(title, detail);
        return;
      }
      if (!response.ok) {
        const { title, detail } = await problemOf(response);
        showProblem(title, detail);
      } else {
        latest = await response.json();
        $('problem').hidden = true;
        render();
      }
    } catch {
      showProblem('The service cannot be reached', 'Check that it is running; this page tries again.');
    }
    if (!paused) timer = setTimeout(refresh, REFRESH_MS);
  }

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void refresh();
  });
  apiKeyInput.addEventListener('change', () => void refresh());
  modelSelect.addEventListener('change', render);
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.setAttribute('aria-pressed', String(paused));
    pauseButton.textContent = paused ? 'Resume updates' : 'Pause updates';
    if (paused) clearTimeout(timer);
    else void refresh();
  });
  let resizing;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(render, 100);
  });

  void refresh();
})();
