#!/usr/bin/env node
// A stand-in for the coordinator's dashboard side, for working on the page without training a model: serves the
// page's files as the coordinator does (/, /dashboard/*, /dashboard/vendor/* from tools/node/node_modules/uplot/dist),
// /login?code=, and the JSON API and event stream (shaped as src/Sora.Metrics/Job/JobViews.cs) over a simulated job
// that advances one step a second (a VAE stage, then a DiT stage with a restart, checkpoints and sample videos).
//
//   node tests/Sora.Cluster.Tests/Monitoring/fake-coordinator.mjs [--port 8090] [--ranks 4] [--session-seconds N] [--dit-steps 60]
//
// It prints {"baseUrl":..., "loginUrl":...} on its first line. The sample video is a real H.264 MP4 made by ffmpeg with
// the flags training uses (src/Sora.Data/Video/Ffmpeg.cs).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    ranks: { type: 'string', default: '4' },
    'session-seconds': { type: 'string', default: '3600' },
    'dit-steps': { type: 'string', default: '60' },
  },
});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const wwwroot = join(root, 'src/Sora.Cluster/Dashboard/wwwroot');
const vendor = join(root, 'tools/node/node_modules/uplot/dist');
const ranks = Number(args.ranks);
const sessionSeconds = Number(args['session-seconds']);
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.mp4': 'video/mp4' };

const scratch = mkdtempSync(join(tmpdir(), 'sora-fake-coordinator-'));
const videoPath = join(scratch, 'sample.mp4');
execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=32x32:rate=8', '-t', '1', '-vf', 'scale=128:128:flags=neighbor,pad=ceil(iw/2)*2:ceil(ih/2)*2',
  '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', '-f', 'mp4', videoPath]);
const video = readFileSync(videoPath);
rmSync(scratch, { recursive: true, force: true });

// The simulated job.
const started = Date.now() / 1000;
const iso = (seconds) => new Date(seconds * 1000).toISOString();
const stages = { vae: 10, dit: Number(args['dit-steps']) };
const prompts = ['a red ball bouncing', 'waves on a beach'];
const job = {
  version: 0, stage: 'vae', step: 0, round: 1, stepsTotal: 0, restarted: false,
  history: [], checkpoints: [], samples: [],
  rounds: [{ round: 1, worldSize: ranks, startedAt: iso(started), endedAt: null, endCause: null }], restarts: [],
};

function advance() {
  const now = Date.now() / 1000;
  if (job.stage === 'dit' && job.step === 20 && !job.restarted) {
    // Rank 1 "crashes": round 2 resumes from the checkpoint of step 16.
    job.restarted = true;
    job.rounds[0].endedAt = iso(now);
    job.rounds[0].endCause = 'rank 1 exited with code 137 (SIGKILL)';
    job.restarts.push({ round: 1, at: iso(now), cause: 'rank 1 exited with code 137 (SIGKILL)', kind: 'same-size' });
    job.rounds.push({ round: 2, worldSize: ranks, startedAt: iso(now + 0.5), endedAt: null, endCause: null });
    job.round = 2;
    job.step = 16;
  } else if (job.step >= stages[job.stage]) {
    if (job.stage === 'dit') return;
    job.stage = 'dit';
    job.step = 0;
  }
  job.step++;
  job.stepsTotal++;
  const x = job.step;
  const base = job.stage === 'vae' ? 0.5 : 1.2;
  const stepSeconds = 0.9 + 0.1 * Math.sin(x);
  const breakdown = x % 4 === 0;
  job.history.push({
    stage: job.stage, step: x, time: now, loss: base * Math.exp(-x / 25) * (1 + 0.08 * Math.sin(3 * x)),
    heldOutLoss: x % 5 === 0 ? base * Math.exp(-x / 25) * 1.1 : null, samplesPerSecond: 8 / stepSeconds,
    mfu: job.stage === 'dit' ? 0.031 + 0.004 * Math.sin(x / 3) : null,
    stepSeconds, dataSeconds: breakdown ? 0.05 : 0, computeSeconds: breakdown ? 0.6 : 0,
    optimizerSeconds: breakdown ? 0.1 : 0, communicationSeconds: breakdown ? stepSeconds - 0.75 : 0,
  });
  if (job.stage === 'dit' && x % 8 === 0) {
    job.checkpoints = job.checkpoints.filter((c) => c.step !== x);
    job.checkpoints.push({ step: x, bytes: 3_400_000 * ranks, saveSeconds: 0.42, committedAt: iso(now), store: 'local: runs/demo/checkpoints' });
  }
  if (job.stage === 'dit' && x % 10 === 0) {
    prompts.forEach((prompt, index) => job.samples.push({
      index, prompt, stage: 'dit', step: x, at: iso(now), bytes: video.length, contentType: 'video/mp4', url: `/api/samples/${index}/video?step=${x}`,
    }));
  }
  job.version++;
  for (const client of listeners) client.write(`event: update\ndata: ${JSON.stringify({ version: job.version })}\n\n`);
}

const last = () => job.history[job.history.length - 1];
const views = {
  '/api/job': () => {
    const point = last();
    const committed = job.checkpoints.at(-1);
    return {
      info: { job: 'fake-demo', run: 'fake-demo-20261202T193700Z', model: 'tiny', totalSteps: stages.dit, version: '0.1.0-fake', checkpointStore: 'local: runs/demo/checkpoints' },
      state: job.stage === 'dit' && job.step >= stages.dit ? 'succeeded' : 'running', message: `training ${job.stage}`,
      round: job.round, worldSize: ranks, startedAt: iso(started), stage: job.stage, step: job.step, totalSteps: stages[job.stage],
      loss: point?.loss ?? null, heldOutLoss: job.history.findLast((p) => p.heldOutLoss !== null)?.heldOutLoss ?? null,
      samplesPerSecond: point?.samplesPerSecond ?? 0, modelFlopsPerSecond: 3.1e9, mfu: point?.mfu ?? null,
      stepsTotal: job.stepsTotal, samplesTotal: job.stepsTotal * 8, restartsLeft: 3 - job.restarts.length,
      lastCheckpoint: committed ? { step: committed.step, round: job.round, committedAt: committed.committedAt } : null,
      stragglerRatio: 1.5, stragglers: ranks > 1 ? [1] : [], rounds: job.rounds, restarts: job.restarts,
      workers: [{ state: 'training', count: ranks }],
    };
  },
  '/api/ranks': () => Array.from({ length: ranks }, (_, rank) => ({
    rank, node: `host${1 + Math.floor(rank / 2)}`, localRank: rank % 2, state: 'training', stage: job.stage, step: job.step,
    totalSteps: stages[job.stage], heartbeatAgeSeconds: 0.2 + rank * 0.1, residentBytes: 812_000_000 + rank * 1_000_000, deviceBytes: 0,
    stepSeconds: rank === 1 ? 1.6 : 0.95, dataSeconds: 0.05, computeSeconds: rank === 1 ? 1.3 : 0.6, optimizerSeconds: 0.1,
    communicationSeconds: rank === 1 ? 0.15 : 0.2, modelFlopsPerSecond: 3.1e9, mfu: job.stage === 'dit' ? 0.03 : null,
    stepTimeRatio: rank === 1 ? 1.9 : 1, straggler: rank === 1,
  })),
  '/api/checkpoints': () => job.checkpoints,
  '/api/samples': () => job.samples,
};

const listeners = new Set();
const codes = new Set([randomBytes(8).toString('hex')]);
const sessions = new Map();

function session(request) {
  const cookie = /(?:^|;\s*)sora_session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
  return cookie !== undefined && (sessions.get(cookie) ?? 0) > Date.now();
}

function send(response, status, type, body, headers = {}) {
  response.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...headers });
  response.end(body);
}

function serveFile(response, directory, relative) {
  const path = normalize(join(directory, relative));
  if (!path.startsWith(directory)) return send(response, 404, 'text/plain', 'not found');
  try {
    send(response, 200, types[extname(path)] ?? 'application/octet-stream', readFileSync(path));
  } catch {
    send(response, 404, 'text/plain', 'not found');
  }
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://localhost');
  if (url.pathname === '/') return serveFile(response, wwwroot, 'index.html');
  if (url.pathname.startsWith('/dashboard/vendor/')) return serveFile(response, vendor, url.pathname.slice('/dashboard/vendor/'.length));
  if (url.pathname.startsWith('/dashboard/')) return serveFile(response, wwwroot, url.pathname.slice('/dashboard/'.length));
  if (url.pathname === '/login') {
    const code = url.searchParams.get('code');
    if (!codes.delete(code)) return send(response, 401, 'text/plain', 'this link was used or is wrong: run `sora dashboard` for a new one');
    const id = randomBytes(16).toString('hex');
    sessions.set(id, Date.now() + sessionSeconds * 1000);
    response.writeHead(302, { Location: '/', 'Set-Cookie': `sora_session=${id}; Path=/; HttpOnly; SameSite=Strict` });
    return response.end();
  }
  if (!url.pathname.startsWith('/api/')) return send(response, 404, 'text/plain', 'not found');
  if (!session(request)) return send(response, 401, 'application/json', JSON.stringify({ error: 'missing or wrong bearer token' }));
  if (url.pathname === '/api/events') {
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    response.write(': connected\n\n');
    listeners.add(response);
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15000);
    request.on('close', () => {
      clearInterval(keepAlive);
      listeners.delete(response);
    });
    return undefined;
  }
  if (url.pathname === '/api/history') {
    const after = url.searchParams.has('after') ? Number(url.searchParams.get('after')) : -Infinity;
    return send(response, 200, 'application/json', JSON.stringify(job.history.filter((p) => p.time > after)));
  }
  if (/^\/api\/samples\/\d+\/video$/.test(url.pathname)) return send(response, 200, 'video/mp4', video);
  const view = views[url.pathname];
  if (!view) return send(response, 404, 'application/json', JSON.stringify({ error: `no ${url.pathname}` }));
  return send(response, 200, 'application/json', JSON.stringify(view()));
});

server.listen(Number(args.port), '127.0.0.1', () => {
  const baseUrl = `http://127.0.0.1:${server.address().port}`;
  console.log(JSON.stringify({ baseUrl, loginUrl: `${baseUrl}/login?code=${[...codes][0]}` }));
  for (let i = 0; i < 12; i++) advance(); // some history before the page opens
  setInterval(advance, 1000);
});
