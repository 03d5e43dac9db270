// The /demo page: sends photos to this origin's POST /v1/predictions and draws the answer. No storage, no
// third-party requests; the API key, when one is needed, lives in the password field only.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('classify-form');
  const fileInput = $('file-input');
  const urlInput = $('url-input');
  const modelSelect = $('model-select');
  const topKInput = $('top-k');
  const apiKeyInput = $('api-key');
  const button = $('classify-button');
  const dropZone = $('drop-zone');
  const statusLine = $('status');
  const problemBox = $('problem');
  const result = $('result');

  /** The photo to classify: { kind: 'file', file } or { kind: 'url', url }. */
  let current;
  let inFlight;
  let sentImageUrl;
  let modelInputUrl;
  let overlayUrl;
  const metadata = new Map();

  function authHeaders() {
    const key = apiKeyInput.value.trim();
    return key ? { 'X-API-Key': key } : {};
  }

  function showProblem(title, detail) {
    $('problem-title').textContent = title;
    $('problem-detail').textContent = detail || '';
    problemBox.hidden = false;
    result.hidden = true;
    statusLine.textContent = '';
  }

  /** A problem+json body as title and detail; anything else in plain words. */
  async function problemOf(response) {
    try {
      const body = await response.json();
      if (body && typeof body.title === 'string') return { title: body.title, detail: body.detail };
    } catch {
      // not JSON
    }
    return { title: `The service answered ${response.status}`, detail: response.statusText };
  }

  async function loadModels() {
    let response;
    try {
      response = await fetch('/v1/models', { headers: authHeaders() });
    } catch {
      showProblem('The service cannot be reached', 'Check that it is running, then reload this page.');
      return;
    }
    if (!response.ok) {
      const { title, detail } = await problemOf(response);
      showProblem(title, detail);
      return;
    }
    const { models } = await response.json();
    const previous = modelSelect.value;
    modelSelect.replaceChildren(
      ...models.map((model) => {
        const option = new Option(`${model.name} (v${model.version}, ${model.status})`, model.name);
        option.disabled = model.status !== 'ready';
        option.selected = previous ? model.name === previous : model.default;
        return option;
      }),
    );
    problemBox.hidden = true;
    await fitTopKToModel();
  }

  /** The engine and the number of classes of a model, from GET /v1/models/{name} (once per model). */
  async function metadataOf(name) {
    if (!metadata.has(name)) {
      const response = await fetch(`/v1/models/${encodeURIComponent(name)}`, { headers: authHeaders() });
      const body = response.ok ? await response.json() : {};
      metadata.set(name, {
        engine: body.runtime ? `${body.runtime.engine} (${body.runtime.backend})` : 'unknown',
        classes: Array.isArray(body.labels) ? body.labels.length : undefined,
      });
    }
    return metadata.get(name);
  }

  /** "Classes shown" goes up to the picked model's number of classes. */
  async function fitTopKToModel() {
    if (!modelSelect.value) return;
    const { classes } = await metadataOf(modelSelect.value);
    if (!classes) return;
    topKInput.max = String(classes);
    if (Number.parseInt(topKInput.value, 10) > classes) topKInput.value = String(classes);
  }

  function requestFor(source) {
    const topK = Number.parseInt(topKInput.value, 10);
    const fields = { model: modelSelect.value || undefined, top_k: Number.isFinite(topK) ? topK : undefined };
    if (source.kind === 'url') {
      return {
        headers: { ...authHeaders(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ url: source.url, ...fields }),
      };
    }
    const body = new FormData();
    body.append('image', source.file);
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) body.append(name, value);
    return { headers: authHeaders(), body };
  }

  function objectUrl(previous, blob) {
    if (previous) URL.revokeObjectURL(previous);
    return URL.createObjectURL(blob);
  }

  function pngBlob(base64) {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Blob([bytes], { type: 'image/png' });
  }

  function detail(term, value) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    return [dt, dd];
  }

  const ms = (value) => `${value.toFixed(1)} ms`;

  /** The heatmap over "what the model saw", its legend and its caption; hidden when there is none. */
  function renderExplanation(explanation) {
    const overlay = $('explanation-overlay');
    const controls = $('explanation-controls');
    if (!explanation) {
      overlay.hidden = true;
      controls.hidden = true;
      return;
    }
    overlayUrl = objectUrl(overlayUrl, pngBlob(explanation.overlay.data));
    overlay.src = overlayUrl;
    overlay.style.opacity = String(Number($('overlay-opacity').value) / 100);
    overlay.hidden = false;
    controls.hidden = false;
    const { label, probability } = explanation.class;
    const { patch_size: patch, stride } = explanation.parameters;
    $('explanation-caption').textContent =
      `Where the model looked for “${label.replace(/_/g, ' ')}” (${(probability * 100).toFixed(1)} %): each ${patch} × ${patch} patch, ${stride} px apart, was hidden in turn; red where hiding it lowered the probability most.`;
    $('legend-text').textContent =
      explanation.overlay_scale > 0
        ? `transparent: no drop; yellow to red: up to ${(explanation.overlay_scale * 100).toFixed(1)} points lower`
        : 'No patch lowered the probability: nothing to show.';
  }

  async function render(answer, source) {
    $('bars').replaceChildren(
      ...answer.predictions.map((prediction) => {
        const percent = `${(prediction.confidence * 100).toFixed(1)} %`;
        const item = document.createElement('li');
        const label = document.createElement('span');
        label.className = 'label';
        label.textContent = prediction.display_name;
        const track = document.createElement('span');
        track.className = 'bar-track';
        track.setAttribute('aria-hidden', 'true');
        const fill = document.createElement('span');
        fill.className = 'bar-fill';
        fill.style.display = 'block';
        fill.style.width = `${Math.max(0, Math.min(100, prediction.confidence * 100))}%`;
        track.append(fill);
        const value = document.createElement('span');
        value.className = 'percent';
        value.textContent = percent;
        item.append(label, track, value);
        return item;
      }),
    );
    const sentFigure = $('sent-figure');
    if (source.kind === 'file') {
      sentImageUrl = objectUrl(sentImageUrl, source.file);
      $('sent-image').src = sentImageUrl;
      $('sent-caption').textContent =
        `The photo as sent: ${answer.image.format.toUpperCase()}, ${answer.image.width} × ${answer.image.height}`;
      sentFigure.hidden = false;
    } else {
      sentFigure.hidden = true;
    }
    if (answer.model_input) {
      modelInputUrl = objectUrl(modelInputUrl, pngBlob(answer.model_input.data));
      $('model-input-image').src = modelInputUrl;
      $('model-input-caption').textContent =
        `What the model saw: ${answer.model_input.width} × ${answer.model_input.height}`;
    }
    renderExplanation(answer.explanation);
    const { timings, model } = answer;
    $('details').replaceChildren(
      ...detail('Model', model.name),
      ...detail('Version', model.version),
      ...detail('Engine', (await metadataOf(model.name)).engine),
      ...detail('Fetch', ms(timings.fetch_ms)),
      ...detail('Decode and resize', ms(timings.decode_ms)),
      ...detail('Inference', ms(timings.inference_ms)),
      ...detail('Total', ms(timings.total_ms)),
      ...(source.kind === 'url' ? detail('Photo', `${answer.image.width} × ${answer.image.height}`) : []),
      ...(answer.explanation
        ? detail(
            'Explanation',
            `${answer.explanation.cost.masked_images} masked images, ${ms(answer.explanation.cost.ms)}`,
          )
        : []),
    );
    problemBox.hidden = true;
    result.hidden = false;
    const top = answer.predictions[0];
    statusLine.textContent = top
      ? `${top.display_name}, ${(top.confidence * 100).toFixed(1)} %, in ${ms(timings.total_ms)}.`
      : 'Done.';
  }

  async function classify() {
    if (!current) {
      showProblem('No photo yet', 'Choose, drop or paste a photo, or type an image URL.');
      return;
    }
    const source = current;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    button.disabled = true;
    statusLine.textContent = $('explain-toggle').checked ? 'Classifying and explaining…' : 'Classifying…';
    try {
      const explain = $('explain-toggle').checked ? '&explain=occlusion' : '';
      const response = await fetch(`/v1/predictions?include=model_input${explain}`, {
        method: 'POST',
        signal: controller.signal,
        ...requestFor(source),
      });
      if (!response.ok) {
        const { title, detail: text } = await problemOf(response);
        showProblem(title, text);
        return;
      }
      await render(await response.json(), source);
    } catch (error) {
      if (error && error.name === 'AbortError') return;
      showProblem('The service cannot be reached', 'Check your connection and that the service is running.');
    } finally {
      if (inFlight === controller) {
        inFlight = undefined;
        button.disabled = false;
      }
    }
  }

  $('overlay-opacity').addEventListener('input', (event) => {
    $('explanation-overlay').style.opacity = String(Number(event.target.value) / 100);
  });
  $('explain-toggle').addEventListener('change', () => {
    if (current) void classify();
  });

  function useFile(file) {
    if (!file) return;
    current = { kind: 'file', file };
    urlInput.value = '';
    void classify();
  }

  function useUrl(url) {
    urlInput.value = url;
    current = { kind: 'url', url };
    void classify();
  }

  fileInput.addEventListener('change', () => useFile(fileInput.files[0]));

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const url = urlInput.value.trim();
    if (url) current = { kind: 'url', url };
    void classify();
  });

  modelSelect.addEventListener('change', async () => {
    await fitTopKToModel();
    if (current) void classify();
  });

  apiKeyInput.addEventListener('change', () => {
    metadata.clear();
    void loadModels();
  });

  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dragging');
    const file = event.dataTransfer.files[0];
    if (file) return useFile(file);
    const url = (
      event.dataTransfer.getData('text/uri-list') || event.dataTransfer.getData('text/plain')
    ).trim();
    if (url) useUrl(url.split('\n')[0]);
  });

  document.addEventListener('paste', (event) => {
    const item = [...event.clipboardData.items].find(
      (entry) => entry.kind === 'file' && entry.type.startsWith('image/'),
    );
    if (item) {
      event.preventDefault();
      useFile(item.getAsFile());
      return;
    }
    const text = event.clipboardData.getData('text/plain').trim();
    const inField = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
    if (!inField && /^https?:\/\//i.test(text)) {
      event.preventDefault();
      useUrl(text);
    }
  });

  void loadModels();
})();
