/**
 * The slab benchmark: W1-W5 for every contender and for nginx's own slab allocator, each
 * (contender, workload) in a fresh child process, all contenders of a workload one after the
 * other; prints a table with ratios to the in-run peer (@thi.ng/malloc), to nginx and to glibc's
 * malloc (W1-W3, W5; bench/glibc/harness.c, glibc.ts), and writes bench/results/slab.json.
 * W5 is a cache-like workload (bench/slab/workloads.ts); the old reference figures have none.
 *
 * nginx is measured in the same run, so the shared machine's day-to-day drift (±20%) cancels
 * out of the "x nginx" column. First, bench/nginx/build.mjs builds bench/nginx/harness.c against
 * nginx's ngx_slab.c and ngx_shmtx.c (downloaded and built once, cached in bench/.cache/); the
 * harness runs the same workloads, zone sizes, PRNG and passes as child.ts, as two contenders:
 * `nginx` (ngx_slab_alloc/free, the zone mutex per call) and `nginx-locked` (the _locked twins
 * under one held mutex). The old reference figures of docs/specs/nginx-slab-notes.md, measured long ago on
 * another CPU, are printed ("x ref") and written alongside. If the harness cannot be built (no
 * gcc, no network on a first run), "x nginx" falls back to those reference figures and the
 * table says so.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildReport } from './child.js';
import { CONTENDERS, type ContenderName } from './contenders.js';
import { buildHarness, runGlibc } from './glibc.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository root, from dist/bench/slab. */
const root = path.resolve(here, '..', '..', '..');

interface NginxFigures {
  /** ngx_slab_alloc / ngx_slab_free: ns per step. */
  withLock: Record<string, number>;
  /** ngx_slab_alloc_locked / ngx_slab_free_locked: ns per step. */
  noLock: Record<string, number>;
  /** Bytes requested / zone size. */
  W4: number;
}

/**
 * nginx 1.31 slab, gcc -O2, on the team's 2-core AMD EPYC VM long ago
 * (docs/specs/nginx-slab-notes.md): ns per step.
 */
export const NGINX_REFERENCE: NginxFigures = {
  withLock: { W1: 27.6, W2: 39.1, W3: 62.0 },
  noLock: { W1: 19.1, W2: 29.6, W3: 53.7 },
  W4: 0.744,
};

/** The harness's two ways of calling nginx's slab, as contenders of this table. */
const NGINX_CONTENDERS = { nginx: 'lock', 'nginx-locked': 'locked' } as const;
type NginxName = keyof typeof NGINX_CONTENDERS;
type Contender = ContenderName | NginxName | 'glibc';

/** One line of bench/nginx/harness.c: a ChildReport plus the build it measured. */
interface NginxReport extends Omit<ChildReport, 'contender'> {
  variant: 'lock' | 'locked';
  nginx: string;
  cc: string;
}

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

function runNginx(binary: string, name: NginxName, workload: string, quick: boolean): NginxReport {
  const args = [workload, NGINX_CONTENDERS[name]];
  if (quick) args.push('--quick');
  const out = execFileSync(binary, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as NginxReport;
}

/**
 * The nginx figure a contender is compared with: same lock discipline, same workload (NaN
 * where there is none: the reference figures have no W5).
 */
function nginxFigure(figures: NginxFigures, contender: Contender, workload: string): number {
  if (workload === 'W4') return figures.W4;
  const noLock =
    contender.endsWith('-locked') ||
    contender === 'thi.ng-malloc' ||
    contender === 'nginx-locked' ||
    contender === 'glibc'; // no lock either: compared with nginx's _locked calls
  return (noLock ? figures.noLock : figures.withLock)[workload] ?? NaN;
}

/** A ratio against a figure that does not exist (NaN) is no ratio. */
function nanNull(x: number): number | null {
  return Number.isNaN(x) ? null : x;
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
    contender: Contender;
    median: number;
    wallMedian: number | null;
    runs: number[];
    wall: number[] | null;
    steps: number;
    vsPeer: number | null;
    /** Against nginx measured in this run (the reference figures if the harness did not build). */
    vsNginx: number | null;
    /** Against NGINX_REFERENCE. */
    vsNginxReference: number | null;
    /** Against glibc's malloc/free measured in this run (null: W4, or no harness). */
    vsGlibc: number | null;
  }> = [];
  console.log(
    `slab benchmarks${quick ? ' (--quick)' : ''}: node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu?'} x${os.cpus().length}`,
  );
  const build = buildHarness(root, 'nginx');
  const nginxBinary = 'binary' in build ? build.binary : null;
  const thisRun: NginxFigures = { withLock: {}, noLock: {}, W4: NaN };
  let nginxBuild: { nginx: string; cc: string } | null = null;
  const glibc = buildHarness(root, 'glibc');
  const glibcBinary = 'binary' in glibc ? glibc.binary : null;
  const glibcRun: Record<string, number> = {};
  let glibcBuild: { glibc: string; cc: string } | null = null;

  for (const workload of ['W1', 'W2', 'W3', 'W4', 'W5']) {
    const reports = new Map<Contender, Omit<ChildReport, 'contender'>>();
    for (const c of CONTENDERS) {
      // W4 does not depend on the lock: measure each size-class mode once.
      if (workload === 'W4' && c.endsWith('-locked')) continue;
      process.stderr.write(`  ${workload} ${c} ...\n`);
      reports.set(c, runChild(c, workload, quick));
    }
    if (nginxBinary !== null) {
      for (const c of Object.keys(NGINX_CONTENDERS) as NginxName[]) {
        if (workload === 'W4' && c === 'nginx-locked') continue;
        process.stderr.write(`  ${workload} ${c} ...\n`);
        const r = runNginx(nginxBinary, c, workload, quick);
        nginxBuild = { nginx: r.nginx, cc: r.cc };
        reports.set(c, r);
        if (workload === 'W4') thisRun.W4 = r.runs[0];
        else (c === 'nginx' ? thisRun.withLock : thisRun.noLock)[workload] = median(r.runs);
      }
    }
    if (glibcBinary !== null && workload !== 'W4') {
      process.stderr.write(`  ${workload} glibc ...\n`);
      const r = runGlibc(glibcBinary, workload, quick);
      glibcBuild = { glibc: r.glibc, cc: r.cc };
      reports.set('glibc', r);
      glibcRun[workload] = median(r.runs);
    }
    const against = nginxBinary !== null ? thisRun : NGINX_REFERENCE;
    const peer = median(reports.get('thi.ng-malloc')!.runs);
    for (const [c, r] of reports) {
      const m = median(r.runs);
      rows.push({
        workload,
        contender: c,
        median: m,
        wallMedian: r.wall ? median(r.wall) : null,
        runs: r.runs,
        wall: r.wall ?? null,
        steps: r.steps,
        vsPeer: c === 'thi.ng-malloc' ? null : m / peer,
        vsNginx: c in NGINX_CONTENDERS ? null : m / nginxFigure(against, c, workload),
        vsNginxReference: nanNull(m / nginxFigure(NGINX_REFERENCE, c, workload)),
        vsGlibc: c === 'glibc' || glibcRun[workload] === undefined ? null : m / glibcRun[workload],
      });
    }
  }

  const fmt = (x: number | null, d = 2): string => (x === null ? '-' : x.toFixed(d));
  const ratio = (x: number | null): string => (x === null ? '-' : x.toPrecision(3));
  console.log('');
  if (nginxBuild !== null) {
    console.log(
      `nginx: measured in this run (nginx ${nginxBuild.nginx} ngx_slab.c + ngx_shmtx.c, ${nginxBuild.cc}; bench/nginx/harness.c)`,
    );
  } else {
    console.log('nginx: reference figures from docs/specs/nginx-slab-notes.md, not this run');
    console.log(`       (the harness did not build: ${'error' in build ? build.error : '?'})`);
  }
  console.log(
    `${pad('workload', 9)}${pad('contender', 18)}${pad('median cpu', 12, true)}${pad('wall', 10, true)}${pad('x peer', 9, true)}${pad('x nginx', 9, true)}${pad('x ref', 9, true)}${pad('x glibc', 9, true)}  nginx ref   steps`,
  );
  for (const r of rows) {
    const isW4 = r.workload === 'W4';
    const unit = isW4 ? '' : ' ns';
    const ref = nginxFigure(NGINX_REFERENCE, r.contender, r.workload);
    console.log(
      `${pad(r.workload, 9)}${pad(r.contender, 18)}${pad(fmt(r.median, isW4 ? 4 : 1) + unit, 12, true)}${pad(r.wallMedian === null ? '' : fmt(r.wallMedian, 1), 10, true)}${pad(ratio(r.vsPeer), 9, true)}${pad(ratio(r.vsNginx), 9, true)}${pad(ratio(r.vsNginxReference), 9, true)}${pad(ratio(r.vsGlibc), 9, true)}  ${pad(Number.isNaN(ref) ? '-' : String(ref) + unit, 9)} ${r.steps}`,
    );
  }
  console.log(
    '\nx peer / x nginx / x ref: our figure divided by theirs (time: lower is better; W4: higher is better).\nW1: ns per alloc+free pair; W2/W3/W5: ns per step (free + alloc); W4: bytes requested / 16 MiB zone (higher is better).\nW5 cache-like: 4,096 live blocks of 16 B..64 KiB (70% <= 512 B, 5% > 8 KiB), FIFO-ish lifetimes (bench/slab/workloads.ts).',
  );
  console.log(
    nginxBuild !== null
      ? 'x nginx: against the nginx rows of this run; x ref / nginx ref: against the reference figures of docs/specs/nginx-slab-notes.md\n(nginx 1.31, another CPU, long ago): on the nginx rows, x ref is how far this machine is from the reference today.'
      : 'x nginx: against the reference figures of docs/specs/nginx-slab-notes.md (nginx ref column), as x ref.',
  );
  console.log(
    glibcBuild !== null
      ? `x glibc: against glibc ${glibcBuild.glibc} malloc/free in this run (${glibcBuild.cc}; bench/glibc/harness.c): private memory, no cross-process lock.`
      : `x glibc: not measured (the harness did not build: ${'error' in glibc ? glibc.error : '?'}).`,
  );
  console.log(
    'slab-*: lock per call (vs nginx with its lock); slab-*-locked: allocLocked/freeLocked + commit() under one held lock (vs nginx _locked).',
  );
  console.log(
    `median cpu = process CPU time per step (headline; robust to other load), wall = wall clock. Load average at start: ${load}.`,
  );
  console.log(
    'thi.ng-malloc runs fewer steps (it is O(live blocks) per call); its ns/step is for those steps (x nginx: vs nginx _locked).',
  );

  const dir = options.resultsDir ?? path.join(root, 'bench', 'results');
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
    nginx: {
      vsNginxAgainst: nginxBuild !== null ? 'thisRun' : 'reference',
      thisRun: nginxBuild !== null ? { ...nginxBuild, ...thisRun } : null,
      buildError: 'error' in build ? build.error : null,
      reference: {
        source: 'nginx-slab-notes.md: nginx 1.31 slab, gcc -O2, 2-core AMD EPYC VM, long ago',
        ...NGINX_REFERENCE,
      },
    },
    glibc: {
      thisRun: glibcBuild !== null ? { ...glibcBuild, ...glibcRun } : null,
      buildError: 'error' in glibc ? glibc.error : null,
    },
    rows,
  };
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwritten: ${path.relative(process.cwd(), file)}`);
}
