/**
 * The benchmark charts, from the results JSON the suites write (bench/slab/run.ts:
 * slab.json, bench/dict/run.ts: dict.json): what to draw, not how (svg.ts). Each chart says
 * which run it comes from (date, Node, CPU, cores) and that the machine may have been shared:
 * every figure is a ratio or a rate within that one run.
 */
import type { BarChart, BarGroup } from './svg.js';

/** The parts of bench/results/slab.json the charts read. */
export interface SlabResults {
  date: string;
  node: string;
  cpu?: string;
  cores: number;
  loadAverageAtStart?: string;
  quick: boolean;
  nginx: { vsNginxAgainst: 'thisRun' | 'reference'; thisRun: { nginx: string; cc: string } | null };
  rows: Array<{
    workload: string;
    contender: string;
    median: number;
    vsNginx: number | null;
    /** Present once a glibc yardstick is measured. */
    vsGlibc?: number | null;
  }>;
}

/** The parts of bench/results/dict.json the charts read. */
export interface DictResults {
  when: string;
  node: string;
  cpus: number;
  quick: boolean;
  rounds: number;
  skipped: Record<string, string>;
  rows: Array<{
    contender: string;
    variant: string;
    procs: number;
    opsPerSecPerProc: number;
    opsPerSecTotal: number;
  }>;
}

/** A chart and the file it goes to. */
export interface NamedChart {
  file: string;
  chart: BarChart;
}

const SHARED_MACHINE =
  'Measured on a machine shared with other jobs: compare bars within this chart, not across runs.';

/** A ratio as printed on a bar: three significant digits and `x`. */
export function ratioText(r: number): string {
  return r >= 1000 ? `${r.toFixed(0)}x` : `${r.toPrecision(3)}x`;
}

/** A rate as printed on a bar: `12.3 M/s`, `884 k/s`. */
export function rateText(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toPrecision(3)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toPrecision(3)} k/s`;
  return `${perSecond.toPrecision(3)} /s`;
}

function slabRunLine(s: SlabResults): string {
  return (
    `Run ${s.date}, Node ${s.node}, ${s.cpu ?? 'unknown CPU'}, ${s.cores} cores` +
    `${s.loadAverageAtStart ? `, load ${s.loadAverageAtStart} at start` : ''}${s.quick ? ', --quick' : ''}.`
  );
}

const YARDSTICKS = [
  { field: 'vsNginx', name: 'nginx', file: 'slab-vs-nginx.svg' },
  { field: 'vsGlibc', name: 'glibc', file: 'slab-vs-glibc.svg' },
] as const;

/**
 * One chart per yardstick the JSON has (nginx always; glibc once measured): each slab
 * contender's time per step divided by the yardstick's, per workload W1-W3 (lower is better),
 * and W4's fill ratio divided likewise (higher is better).
 */
export function slabCharts(s: SlabResults): NamedChart[] {
  const out: NamedChart[] = [];
  for (const y of YARDSTICKS) {
    const rows = s.rows.filter((r) => typeof r[y.field] === 'number');
    if (rows.length === 0) continue;
    const workloads = [...new Set(rows.map((r) => r.workload))];
    const groups: BarGroup[] = workloads.map((w) => ({
      title: w === 'W4' ? `${w}: fill, higher is better` : `${w}: time per step, lower is better`,
      bars: rows
        .filter((r) => r.workload === w)
        .map((r) => ({
          label: r.contender,
          value: r[y.field] as number,
          text: ratioText(r[y.field] as number),
        })),
    }));
    const measured =
      y.field === 'vsNginx'
        ? s.nginx.vsNginxAgainst === 'thisRun' && s.nginx.thisRun !== null
          ? `nginx ${s.nginx.thisRun.nginx} slab (${s.nginx.thisRun.cc}) measured in the same run`
          : 'nginx reference figures (docs/specs/nginx-slab-notes.md), not this run'
        : `${y.name} measured in the same run`;
    out.push({
      file: y.file,
      chart: {
        title: `Slab allocator: shmzone and its peers as ratios to ${y.name}`,
        subtitle: [`Each bar: contender / ${y.name}; ${measured}.`, slabRunLine(s)],
        axisLabel: `ratio to ${y.name} (1 = ${y.name})`,
        scale: 'linear',
        references: [{ value: 1, label: y.name }],
        groups,
        notes: [
          '*-locked: allocLocked/freeLocked under one held lock, against nginx without its lock.',
          'Workloads: docs/performance.md. Table and commands: README, Benchmarks.',
          SHARED_MACHINE,
        ],
      },
    });
  }
  return out;
}

function dictRunLine(d: DictResults): string {
  return (
    `Run ${d.when}, Node ${d.node}, ${d.cpus} cores, median of ${d.rounds} round(s)` +
    `${d.quick ? ', --quick' : ''}.`
  );
}

function skippedNote(d: DictResults): string[] {
  const names = Object.keys(d.skipped);
  return names.length === 0 ? [] : [`Not in this run: ${names.join(', ')}.`];
}

/**
 * Dict throughput: ops/s of one process per contender (get-only and mixed get/set), and how
 * the total grows with processes (total at n processes / total at 1).
 */
export function dictCharts(d: DictResults): NamedChart[] {
  const variants = [...new Set(d.rows.map((r) => r.variant))];
  const throughput: BarGroup[] = variants.map((v) => ({
    title: v === 'get' ? 'get (all hits)' : `${v} (gets and sets)`,
    bars: d.rows
      .filter((r) => r.variant === v && r.procs === 1)
      .map((r) => ({
        label: r.contender,
        value: r.opsPerSecPerProc,
        text: rateText(r.opsPerSecPerProc),
      })),
  }));
  const procs = [...new Set(d.rows.map((r) => r.procs))].filter((p) => p > 1).sort((a, b) => a - b);
  const scaling: BarGroup[] = [];
  for (const v of variants) {
    for (const p of procs) {
      const bars = d.rows
        .filter((r) => r.variant === v && r.procs === p)
        .flatMap((r) => {
          const one = d.rows.find(
            (o) => o.variant === v && o.procs === 1 && o.contender === r.contender,
          );
          if (one === undefined) return [];
          const ratio = r.opsPerSecTotal / one.opsPerSecTotal;
          return [{ label: r.contender, value: ratio, text: ratioText(ratio) }];
        });
      if (bars.length > 0) scaling.push({ title: `${v}: ${p} processes / 1 process`, bars });
    }
  }
  const out: NamedChart[] = [
    {
      file: 'dict-throughput.svg',
      chart: {
        title: 'SharedDict against Map, lru-cache, lmdb, Redis: operations per second',
        subtitle: ['One process, workload C1 (docs/performance.md), log scale.', dictRunLine(d)],
        axisLabel: 'operations per second in one process (log scale)',
        scale: 'log',
        references: [],
        groups: throughput,
        notes: [
          'map and lru-cache are per-process (nothing shared); the others share one cache between processes.',
          ...skippedNote(d),
          SHARED_MACHINE,
        ],
      },
    },
  ];
  if (scaling.length > 0) {
    out.push({
      file: 'dict-scaling.svg',
      chart: {
        title: 'Scaling with processes: total operations per second, n processes / 1',
        subtitle: [
          `Workload C1, ${d.cpus} cores: 2 processes can at best double the total.`,
          dictRunLine(d),
        ],
        axisLabel: 'total ops/s at n processes / total at 1 process',
        scale: 'linear',
        references: [
          { value: 1, label: '1 process' },
          { value: Math.min(d.cpus, procs[procs.length - 1]), label: 'ideal' },
        ],
        groups: scaling,
        notes: [...skippedNote(d), SHARED_MACHINE],
      },
    });
  }
  return out;
}
