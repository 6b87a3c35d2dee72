/**
 * The slab benchmark: W1-W4 for every contender, each (contender, workload) in a fresh child
 * process; prints a table with ratios to the in-run peer (@thi.ng/malloc) and to nginx's own
 * slab measured on this machine, and writes bench/results/slab.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReport } from './child.js';
import { CONTENDERS, type ContenderName } from './contenders.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** nginx 1.31 slab on the team's machine (../shared/nginx-slab-notes.md): ns per step. */
export const NGINX = {
  withLock: { W1: 27.6, W2: 39.1, W3: 62.0 } as Record<string, number>,
  noLock: { W1: 19.1, W2: 29.6, W3: 53.7 } as Record<string, number>,
  W4: 0.744,
};

export interface BenchOptions {
  quick: boolean;
  /** Where results go; default <repo>/bench/results. */
  resultsDir?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runChild(contender: ContenderName, workload: string, quick: boolean): ChildReport {
  const args = [path.join(here, 'child.js'), contender, workload];
  if (quick) args.push('--quick');
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildReport;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export async function run(options: BenchOptions): Promise<void> {
  const { quick } = options;
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const rows: Array<{
    workload: string;
    contender: ContenderName;
    median: number;
    wallMedian: number | null;
    runs: number[];
    wall: number[] | null;
    steps: number;
    vsPeer: number | null;
    vsNginx: number | null;
  }> = [];
  console.log(
    `slab benchmarks${quick ? ' (--quick)' : ''}: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu?'} x${os.cpus().length}`,
  );
  for (const workload of ['W1', 'W2', 'W3', 'W4']) {
    const reports = new Map<ContenderName, ChildReport>();
    for (const c of CONTENDERS) {
      // W4 does not depend on the lock: measure each size-class mode once.
      if (workload === 'W4' && c.endsWith('-locked')) continue;
      process.stderr.write(`  ${workload} ${c} ...\n`);
      reports.set(c, runChild(c, workload, quick));
    }
    const peer = median(reports.get('thi.ng-malloc')!.runs);
    for (const [c, r] of reports) {
      const m = median(r.runs);
      let vsNginx: number | null;
      if (workload === 'W4') vsNginx = m / NGINX.W4;
      else if (c === 'thi.ng-malloc') vsNginx = m / NGINX.noLock[workload];
      else vsNginx = m / (c.endsWith('-locked') ? NGINX.noLock : NGINX.withLock)[workload];
      rows.push({
        workload,
        contender: c,
        median: m,
        wallMedian: r.wall ? median(r.wall) : null,
        runs: r.runs,
        wall: r.wall ?? null,
        steps: r.steps,
        vsPeer: c === 'thi.ng-malloc' ? null : m / peer,
        vsNginx,
      });
    }
  }

  const fmt = (x: number | null, d = 2): string => (x === null ? '-' : x.toFixed(d));
  const ratio = (x: number | null): string => (x === null ? '-' : x.toPrecision(3));
  console.log('');
  console.log(
    `${pad('workload', 9)}${pad('contender', 18)}${pad('median cpu', 12, true)}${pad('wall', 10, true)}${pad('x peer', 9, true)}${pad('x nginx', 9, true)}  nginx ref   steps`,
  );
  for (const r of rows) {
    const isW4 = r.workload === 'W4';
    const ref = isW4
      ? NGINX.W4
      : (r.contender.endsWith('-locked') || r.contender === 'thi.ng-malloc'
          ? NGINX.noLock
          : NGINX.withLock)[r.workload];
    const unit = isW4 ? '' : ' ns';
    console.log(
      `${pad(r.workload, 9)}${pad(r.contender, 18)}${pad(fmt(r.median, isW4 ? 4 : 1) + unit, 12, true)}${pad(r.wallMedian === null ? '' : fmt(r.wallMedian, 1), 10, true)}${pad(ratio(r.vsPeer), 9, true)}${pad(ratio(r.vsNginx), 9, true)}  ${pad(String(ref) + unit, 9)} ${r.steps}`,
    );
  }
  console.log(
    '\nx peer / x nginx: our figure divided by theirs (time: lower is better; W4: higher is better).\nW1: ns per alloc+free pair; W2/W3: ns per step (free + alloc); W4: bytes requested / 16 MiB zone (higher is better).',
  );
  console.log(
    'slab-*: lock per call (vs nginx with its lock); slab-*-locked: allocLocked/freeLocked + commit() under one held lock (vs nginx _locked).',
  );
  console.log(
    `median cpu = process CPU time per step (headline; robust to other load), wall = wall clock. Load average at start: ${load}.`,
  );
  console.log(
    'thi.ng-malloc runs fewer steps (it is O(live blocks) per call); its ns/step is for those steps.',
  );

  const dir = options.resultsDir ?? path.resolve(here, '..', '..', '..', 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, quick ? 'slab.quick.json' : 'slab.json');
  const json = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    loadAverageAtStart: load,
    timing: 'runs = process CPU ns per step (median reported); wall = wall-clock ns per step',
    quick,
    nginx: NGINX,
    rows,
  };
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
}
