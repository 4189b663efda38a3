// The coordinator's live dashboard: fetches the job's state from the JSON API once, then again after every
// `update` on /api/events (the history incrementally, with ?after=). No page reloads, no polling.

import { ApiError, SessionExpired, getJson, subscribe } from './api.js';
import { History, createCharts, drawCharts } from './charts.js';
import { renderCheckpoints, renderJob, renderLossStages, renderRanks, renderSamples, renderTimeline } from './panels.js';

const history = new History();
const charts = createCharts();
let unsubscribe = () => {};
let running = false;
let again = false;
let lastState = null;
let lastJob = null;
/** The stage the loss chart shows when the user picked one; null: the job's current stage. */
let pickedStage = null;

/** States after which the coordinator exits: its stream dropping then is the end, not a fault. */
const finished = new Set(['succeeded', 'stopped', 'failed']);

// For tests and for a curious user's console: the uPlot instances and what the page has done.
window.soraCharts = charts;
window.soraDashboard = { refreshes: 0, version: null, history };

function notice(problem) {
  const box = document.getElementById('notice');
  if (problem === null) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.className = problem instanceof SessionExpired ? 'expired' : 'trouble';
  if (problem === 'finished') {
    box.className = 'finished';
    box.textContent = `the job has ${lastState} and its coordinator has exited: this is its final state`;
  } else if (problem instanceof SessionExpired) {
    box.replaceChildren('session expired: run ', Object.assign(document.createElement('code'), { textContent: 'sora dashboard' }), ' for a new link');
  } else if (problem === 'reconnecting') {
    box.textContent = 'lost the coordinator\'s event stream: reconnecting…';
  } else {
    box.textContent = problem instanceof ApiError
      ? `the coordinator answered ${problem.message} (retrying on its next update)`
      : `cannot reach the coordinator: ${problem.message ?? problem} (retrying)`;
  }
}

async function refreshOnce() {
  const after = history.after;
  const [job, ranks, checkpoints, samples, points] = await Promise.all([
    getJson('/api/job'),
    getJson('/api/ranks'),
    getJson('/api/checkpoints'),
    getJson('/api/samples'),
    getJson(after === null ? '/api/history' : `/api/history?after=${after}`),
  ]);
  history.add(points);
  lastState = job.state;
  lastJob = job;
  renderJob(job);
  drawLoss();
  renderRanks(ranks);
  renderTimeline(job);
  renderCheckpoints(checkpoints);
  renderSamples(samples);
  window.soraDashboard.refreshes++;
}

/** The charts, the loss chart showing the picked stage (or the job's current one). */
function drawLoss() {
  const stages = history.stages();
  const shown = pickedStage ?? (lastJob?.stage || stages[stages.length - 1] || '');
  renderLossStages(stages, shown, (stage) => {
    pickedStage = stage;
    drawLoss();
  });
  drawCharts(charts, history, shown);
}

/** Refreshes everything; updates that arrive meanwhile coalesce into one more refresh. */
async function refresh() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  try {
    do {
      again = false;
      await refreshOnce();
    } while (again);
    notice(null);
  } catch (problem) {
    notice(problem);
    if (problem instanceof SessionExpired) unsubscribe();
    // The notice shows what the network (TypeError) or the API said; anything else is a bug in this page.
    else if (!(problem instanceof TypeError || problem instanceof ApiError)) console.error(problem);
  } finally {
    running = false;
  }
}

unsubscribe = subscribe((version) => {
  window.soraDashboard.version = version;
  refresh();
}, (problem) => {
  if (problem !== null && finished.has(lastState)) {
    unsubscribe();
    notice('finished');
    return;
  }
  notice(problem);
  if (problem instanceof SessionExpired) unsubscribe();
});
refresh();
