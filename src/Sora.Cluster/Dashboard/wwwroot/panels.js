// The job header and the tables: plain DOM built with textContent (prompts, causes and names are data, never HTML).

import { between, bytes, clock, number, percent, seconds, stageName } from './format.js';

/** An element with attributes (class, data-*, ...) and children (elements or text). */
function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined && value !== false) element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children.filter((c) => c !== null && c !== undefined).map((c) => (c instanceof Node ? c : String(c))));
  return element;
}

const cell = (text, numeric = false) => el('td', { class: numeric ? 'num' : null }, text);

/** The table's rows, or one row that says there are none yet. */
function fill(table, rows, none) {
  const columns = document.querySelectorAll(`${table} thead th`).length;
  document.querySelector(`${table} tbody`).replaceChildren(...(rows.length ? rows : [el('tr', { class: 'empty' }, el('td', { colspan: columns, class: 'muted' }, none))]));
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

/** The job header (GET /api/job). */
export function renderJob(job) {
  const { info } = job;
  setText('job-name', info.job);
  document.title = `${info.job} · ${job.state} · step ${job.step}/${job.totalSteps}`;

  const state = document.getElementById('job-state');
  state.textContent = job.state;
  state.dataset.state = job.state;
  setText('job-message', job.message ?? '');

  const step = document.getElementById('job-step');
  step.textContent = `${job.step} / ${job.totalSteps}`;
  step.dataset.step = job.step;
  step.dataset.stage = job.stage;
  setText('job-stage', stageName(job.stage));
  setText('job-round', job.round);
  setText('job-world-size', job.worldSize);
  setText('job-samples-per-second', number(job.samplesPerSecond, 3));
  setText('job-mfu', percent(job.mfu));
  setText('job-loss', number(job.loss));
  setText('job-held-out-loss', number(job.heldOutLoss));
  setText('job-restarts-left', job.restartsLeft);
  setText('job-last-checkpoint', job.lastCheckpoint ? `${stageName(job.lastCheckpoint.stage)} step ${job.lastCheckpoint.step} at ${clock(job.lastCheckpoint.committedAt)}` : 'none yet');

  const workers = job.workers.map((w) => `${w.count} ${w.state}`).join(', ');
  setText('job-info', [
    `model ${info.model}`,
    `run ${info.run}`,
    `started ${clock(job.startedAt)}`,
    `${job.stepsTotal} steps and ${job.samplesTotal} samples trained in all`,
    workers && `workers: ${workers}`,
    job.stragglers.length && `stragglers: rank ${job.stragglers.join(', ')} (step time ≥ ${job.stragglerRatio}× the median)`,
    `checkpoints in ${info.checkpointStore}`,
    `sora ${info.version}`,
  ].filter(Boolean).join(' · '));
}

/**
 * The loss chart's title and its stage buttons: one per stage the history holds, the one shown pressed. Picking one
 * calls <pick> with its stage; the page follows the job's current stage until the user picks.
 */
export function renderLossStages(stages, shown, pick) {
  setText('loss-title', shown ? `Loss (${stageName(shown)} stage, log scale)` : 'Loss (log scale)');
  const group = document.getElementById('loss-stages');
  const buttons = stages.length > 1 ? stages.map((stage) => {
    const button = el('button', { type: 'button', 'data-stage': stage, 'aria-pressed': stage === shown ? 'true' : 'false' }, stageName(stage));
    button.addEventListener('click', () => pick(stage));
    return button;
  }) : [];
  group.replaceChildren(...buttons);
}

/** The ranks table (GET /api/ranks): one row per rank, stragglers highlighted. */
export function renderRanks(ranks) {
  const rows = [...ranks].sort((a, b) => a.rank - b.rank).map((r) =>
    el('tr', { 'data-rank': r.rank, 'data-straggler': r.straggler, class: r.straggler ? 'straggler' : null },
      cell(r.node),
      cell(r.rank, true),
      cell(r.localRank, true),
      el('td', {}, el('span', { class: 'state', 'data-state': r.state }, r.state)),
      cell(stageName(r.stage)),
      cell(`${r.step} / ${r.totalSteps}`, true),
      el('td', { class: r.heartbeatAgeSeconds > 10 ? 'num late' : 'num' }, seconds(r.heartbeatAgeSeconds)),
      cell(bytes(r.residentBytes), true),
      cell(bytes(r.deviceBytes), true),
      cell(seconds(r.stepSeconds), true),
      cell(seconds(r.dataSeconds), true),
      cell(seconds(r.computeSeconds), true),
      cell(seconds(r.optimizerSeconds), true),
      cell(seconds(r.communicationSeconds), true),
      cell(percent(r.mfu), true),
      cell(`${number(r.stepTimeRatio, 3)}×`, true),
      el('td', {}, r.straggler ? el('span', { class: 'flag' }, 'straggler') : '')));
  fill('#ranks', rows, 'no rank is reporting');
}

/** Rounds and the restarts between them (GET /api/job), newest first. */
export function renderTimeline(job) {
  const events = [
    ...job.rounds.map((r) => ({
      at: r.startedAt,
      item: el('li', { class: 'round', 'data-round': r.round },
        el('strong', {}, `round ${r.round}`),
        ` · ${r.worldSize} ranks · ${clock(r.startedAt)} – ${r.endedAt ? clock(r.endedAt) : r.state} (${seconds(between(r.startedAt, r.endedAt))})`,
        r.endCause ? el('div', { class: 'cause' }, `${r.state === 'ending' ? 'ending' : 'ended'}: ${r.endCause}`) : null),
    })),
    ...job.restarts.map((r) => ({
      at: r.at,
      item: el('li', { class: 'restart', 'data-round': r.round },
        el('strong', {}, `restart (${r.kind})`),
        ` after round ${r.round} · ${clock(r.at)}`,
        el('div', { class: 'cause' }, r.cause)),
    })),
  ].sort((a, b) => new Date(b.at) - new Date(a.at));
  document.getElementById('timeline').replaceChildren(...events.map((e) => e.item));
}

/** The checkpoints (GET /api/checkpoints), newest first. */
export function renderCheckpoints(checkpoints) {
  // Newest first: the DiT stage's after the VAE stage's, each by step.
  const order = (c) => (c.stage === 'vae' ? 0 : 1);
  const rows = [...checkpoints].sort((a, b) => order(b) - order(a) || b.step - a.step).map((c) =>
    el('tr', { 'data-stage': c.stage, 'data-step': c.step, class: c.committedAt ? null : 'pending' },
      cell(stageName(c.stage)),
      cell(c.step, true),
      cell(bytes(c.bytes), true),
      cell(c.saveSeconds > 0 ? seconds(c.saveSeconds) : '–', true),
      cell(c.committedAt ? clock(c.committedAt) : 'not committed'),
      el('td', { class: 'wrap' }, c.store)));
  fill('#checkpoints', rows, 'none yet');
}

/**
 * The latest sample video of each prompt (GET /api/samples). A figure is kept while its video is the same, so a
 * playing video is not restarted by every update; a newer sample replaces it.
 */
export function renderSamples(samples) {
  const latest = new Map();
  for (const s of samples) {
    const seen = latest.get(s.index);
    if (!seen || s.step > seen.step || (s.step === seen.step && new Date(s.at) > new Date(seen.at))) latest.set(s.index, s);
  }

  const container = document.getElementById('samples');
  const figures = [...latest.values()].sort((a, b) => a.index - b.index).map((s) => {
    const existing = container.querySelector(`figure[data-index="${s.index}"]`);
    if (existing && existing.dataset.url === s.url) return existing;
    const video = el('video', { src: s.url, type: s.contentType, autoplay: true, loop: true, playsinline: true, preload: 'auto', title: s.prompt });
    video.muted = true; // autoplay needs the property, not only the attribute
    return el('figure', { 'data-index': s.index, 'data-step': s.step, 'data-url': s.url },
      video,
      el('figcaption', {},
        el('span', { class: 'prompt' }, s.prompt),
        el('span', { class: 'muted' }, `step ${s.step} (${stageName(s.stage)}) · ${clock(s.at)} · ${bytes(s.bytes)}`)));
  });
  if (figures.length) container.replaceChildren(...figures);
}
