// The charts: uPlot (vendor/uPlot.iife.min.js, the global `uPlot`) draws them; this file only shapes the job's
// history (/api/history) into uPlot's column arrays.

import { number, percent, seconds } from './format.js';

/** The most points the page keeps (the coordinator's own history is bounded too). */
const maxPoints = 20000;

/** The job's history as the page has fetched it, oldest first; fetched incrementally with ?after=. */
export class History {
  points = [];

  /** The time of the newest point (unix seconds), for the next ?after=; null before the first. */
  get after() {
    return this.points.length ? this.points[this.points.length - 1].time : null;
  }

  add(points) {
    const after = this.after;
    for (const point of points) {
      if (after === null || point.time > after) this.points.push(point);
    }
    if (this.points.length > maxPoints) this.points.splice(0, this.points.length - maxPoints);
  }

  /** The stages the history holds, in the order they trained. */
  stages() {
    return [...new Set(this.points.map((p) => p.stage).filter(Boolean))];
  }

  /**
   * The points of one stage by step. A restarted round trains again from its checkpoint's step, so a point whose step
   * is not past the last one's replaces every point from that step on: the curve shows the training that counted.
   */
  stage(name) {
    const kept = [];
    for (const point of this.points) {
      if (point.stage !== name) continue;
      while (kept.length && kept[kept.length - 1].step >= point.step) kept.pop();
      kept.push(point);
    }
    return kept;
  }
}

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function axis(extra = {}) {
  const grid = cssColor('--grid');
  return { stroke: cssColor('--muted'), grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...extra };
}

function line(label, color, format, extra = {}) {
  return { label, stroke: color, width: 1.5, value: (u, v) => format(v), ...extra };
}

function chart(target, height, options, columns) {
  const plot = new uPlot(
    { width: Math.max(target.clientWidth, 200), height, legend: { live: true }, cursor: { drag: { x: true, y: false } }, ...options },
    Array.from({ length: columns }, () => []),
    target,
  );
  new ResizeObserver(() => plot.setSize({ width: Math.max(target.clientWidth, 200), height })).observe(target);
  return plot;
}

const positive = (v) => (v !== null && v !== undefined && v > 0 ? v : null);
const stepIncrements = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1e6];
const stepFormat = (v) => (v === null || v === undefined ? '–' : Math.round(v).toString());

/** Training and held-out loss of one stage against its step, log y. */
function lossChart(target) {
  return chart(
    target,
    280,
    {
      // The log axis fits the data (uPlot's own range widens to whole decades; a loss moves within one or two).
      scales: { x: { time: false }, y: { distr: 3, log: 10, range: (u, min, max) => (min > 0 && max > 0 ? [min / 1.15, max * 1.15] : [0.1, 10]) } },
      axes: [axis({ label: 'step', incrs: stepIncrements }), axis({ size: 60, values: (u, ticks) => ticks.map((t) => number(t, 2)) })],
      series: [
        { label: 'step', value: (u, v) => stepFormat(v) },
        line('training loss', '#4e79a7', number),
        line('held-out loss', '#f28e2b', number, { spanGaps: true, width: 2, points: { show: true, size: 6 } }),
      ],
    },
    3,
  );
}

/** Samples per second (left axis) and MFU (right axis) over time, both stages. */
function throughputChart(target) {
  return chart(
    target,
    220,
    {
      scales: { x: { time: true }, mfu: { range: (u, min, max) => [0, Math.max(max ?? 0, 0.01) * 1.1] } },
      axes: [
        axis(),
        axis({ size: 60, label: 'samples/s' }),
        axis({ scale: 'mfu', side: 1, size: 60, grid: { show: false }, values: (u, ticks) => ticks.map((t) => percent(t)) }),
      ],
      series: [
        {},
        line('samples/s', '#59a14f', (v) => number(v, 3)),
        line('MFU', '#e15759', percent, { scale: 'mfu', spanGaps: true }),
      ],
    },
    3,
  );
}

const phases = [
  ['dataSeconds', 'data', '#76b7b2'],
  ['computeSeconds', 'compute', '#4e79a7'],
  ['optimizerSeconds', 'optimizer', '#edc948'],
  ['communicationSeconds', 'communication', '#b07aa1'],
];

/** Where each step's time went (only points that carry a breakdown), over time. */
function breakdownChart(target) {
  return chart(
    target,
    220,
    {
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, 0.001) * 1.1] } },
      axes: [axis(), axis({ size: 60, values: (u, ticks) => ticks.map((t) => seconds(t)) })],
      series: [
        {},
        line('step', cssColor('--muted'), seconds, { dash: [4, 4] }),
        ...phases.map(([, label, color]) => line(label, color, seconds, { spanGaps: true })),
      ],
    },
    2 + phases.length,
  );
}

/** The three charts, created in their elements (#loss-chart, #throughput-chart, #breakdown-chart). */
export function createCharts() {
  return {
    loss: lossChart(document.getElementById('loss-chart')),
    throughput: throughputChart(document.getElementById('throughput-chart')),
    breakdown: breakdownChart(document.getElementById('breakdown-chart')),
  };
}

/** Redraws the charts from the history; the loss chart shows <stage> (the job's current one, or the one the user picked). */
export function drawCharts(charts, history, stage) {
  const losses = history.stage(stage);
  charts.loss.setData([losses.map((p) => p.step), losses.map((p) => positive(p.loss)), losses.map((p) => positive(p.heldOutLoss))]);

  const all = history.points;
  charts.throughput.setData([all.map((p) => p.time), all.map((p) => p.samplesPerSecond), all.map((p) => p.mfu ?? null)]);

  // Every step's time; its parts only on the points that carry them (the others are 0 there), bridged over the rest.
  const timed = all.filter((p) => p.stepSeconds > 0);
  const measured = (p) => phases.some(([field]) => p[field] > 0);
  charts.breakdown.setData([
    timed.map((p) => p.time),
    timed.map((p) => p.stepSeconds),
    ...phases.map(([field]) => timed.map((p) => (measured(p) ? p[field] : null))),
  ]);
}
