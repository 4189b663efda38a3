// How the dashboard writes numbers, sizes, durations and times.

const dash = '–';

/** A number with a few significant digits (loss values span decades). */
export function number(value, digits = 4) {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  if (value !== 0 && (Math.abs(value) >= 1e6 || Math.abs(value) < 1e-3)) return value.toExponential(digits - 1);
  return Number(value.toPrecision(digits)).toString();
}

/** A fraction (0..1) as a percentage. */
export function percent(fraction) {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return dash;
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 2 : 1)} %`;
}

/** Bytes in binary units; 0 means "not reported". */
export function bytes(count) {
  if (!count) return dash;
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** A duration in seconds, in the largest units that keep it short. */
export function seconds(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return dash;
  if (value < 1) return `${(value * 1000).toFixed(value < 0.01 ? 1 : 0)} ms`;
  if (value < 60) return `${value.toFixed(value < 10 ? 2 : 1)} s`;
  const s = Math.round(value);
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** A point in time (an ISO string from the API, or unix seconds) as local clock time. */
export function clock(at) {
  if (at === null || at === undefined) return dash;
  const date = typeof at === 'number' ? new Date(at * 1000) : new Date(at);
  if (Number.isNaN(date.getTime())) return dash;
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Seconds between two points in time given as ISO strings (the second defaults to now). */
export function between(from, to) {
  return ((to ? new Date(to) : new Date()).getTime() - new Date(from).getTime()) / 1000;
}

/** A training stage's display name. */
export function stageName(stage) {
  return { vae: 'VAE', dit: 'DiT' }[stage] ?? stage ?? dash;
}
