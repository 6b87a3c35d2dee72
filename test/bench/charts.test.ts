/**
 * The benchmark charts: the committed SVGs in docs/charts are exactly what `npm run charts`
 * draws from the JSON committed beside them, and every bar's figure (`data-value`, and the
 * text printed at it) is the figure of the results JSON it claims to show.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { chartsFrom, writeCharts } from '../../bench/charts/run.js';
import type { DictResults, SlabResults } from '../../bench/charts/figures.js';
import { renderBarChart } from '../../bench/charts/svg.js';

const DOCS = fileURLToPath(new URL('../../../docs/charts/', import.meta.url));

interface DrawnBar {
  group: string;
  label: string;
  value: number;
  /** The figure printed at the bar. */
  text: string;
}

const unescape = (s: string): string =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

/** The bars of an SVG, each with the text element that follows its rect. */
function barsOf(svg: string): DrawnBar[] {
  const re =
    /<rect [^>]*data-group="([^"]*)" data-label="([^"]*)" data-value="([^"]*)"\/>\n<text [^>]*>([^<]*)<\/text>/g;
  return [...svg.matchAll(re)].map((m) => ({
    group: unescape(m[1]),
    label: unescape(m[2]),
    value: Number(m[3]),
    text: unescape(m[4]),
  }));
}

function read<T>(file: string): T {
  return JSON.parse(fs.readFileSync(path.join(DOCS, file), 'utf8')) as T;
}

describe('bench: charts', () => {
  it('the committed SVGs are what `npm run charts` draws from the committed JSON', () => {
    const charts = chartsFrom(DOCS);
    expect(charts.map((c) => c.file).sort()).to.deep.equal([
      'dict-scaling.svg',
      'dict-throughput.svg',
      'slab-vs-glibc.svg',
      'slab-vs-nginx.svg',
    ]);
    for (const { file, chart } of charts) {
      expect(fs.readFileSync(path.join(DOCS, file), 'utf8'), file).to.equal(renderBarChart(chart));
    }
  });

  it('slab-vs-nginx.svg: one bar per contender and workload, the ratio the JSON has', () => {
    const slab = read<SlabResults>('slab.json');
    const svg = fs.readFileSync(path.join(DOCS, 'slab-vs-nginx.svg'), 'utf8');
    const bars = barsOf(svg);
    const rows = slab.rows.filter((r) => r.vsNginx !== null);
    expect(bars).to.have.length(rows.length);
    for (const r of rows) {
      const bar = bars.find((b) => b.group.startsWith(`${r.workload}:`) && b.label === r.contender);
      expect(bar, `${r.workload} ${r.contender}`).to.not.equal(undefined);
      expect(bar!.value).to.equal(r.vsNginx);
      const printed = Number(/^([\d.]+)x/.exec(bar!.text)![1]);
      expect(Math.abs(printed - r.vsNginx!) / r.vsNginx!).to.be.below(0.006);
    }
    expect(svg).to.include(`Run ${slab.date}, Node ${slab.node}`);
    expect(svg).to.include('shared with other jobs');
  });

  it('dict-throughput.svg and dict-scaling.svg: ops/s of one process, total n/1 per contender', () => {
    const dict = read<DictResults>('dict.json');
    const throughput = barsOf(fs.readFileSync(path.join(DOCS, 'dict-throughput.svg'), 'utf8'));
    const ones = dict.rows.filter((r) => r.procs === 1);
    expect(throughput).to.have.length(ones.length);
    for (const r of ones) {
      const bar = throughput.find((b) => b.group.startsWith(r.variant) && b.label === r.contender);
      expect(bar, `${r.variant} ${r.contender}`).to.not.equal(undefined);
      expect(bar!.value).to.equal(r.opsPerSecPerProc);
      const [, n, unit] = /^([\d.]+) (M|k)?\/s$/.exec(bar!.text)!;
      const printed = Number(n) * (unit === 'M' ? 1e6 : unit === 'k' ? 1e3 : 1);
      expect(Math.abs(printed - r.opsPerSecPerProc) / r.opsPerSecPerProc).to.be.below(0.006);
    }
    for (const name of ['map', 'lru-cache', 'lmdb', 'shareddict']) {
      expect(throughput.some((b) => b.label === name)).to.equal(true);
    }
    const scaling = barsOf(fs.readFileSync(path.join(DOCS, 'dict-scaling.svg'), 'utf8'));
    const many = dict.rows.filter((r) => r.procs > 1);
    expect(scaling).to.have.length(many.length);
    for (const r of many) {
      const one = ones.find((o) => o.variant === r.variant && o.contender === r.contender)!;
      const bar = scaling.find(
        (b) =>
          b.group === `${r.variant}: ${r.procs} processes / 1 process` && b.label === r.contender,
      );
      expect(bar!.value).to.equal(r.opsPerSecTotal / one.opsPerSecTotal);
    }
  });

  it('draws a glibc chart when the JSON has glibc ratios, and escapes names', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-charts-'));
    try {
      const slab = read<SlabResults>('slab.json');
      const rows = slab.rows.map((r, i) => ({
        ...r,
        vsGlibc: r.vsNginx === null ? null : 0.5 + i,
      }));
      rows[0].contender = 'a<b & "c"';
      fs.writeFileSync(path.join(dir, 'slab.json'), JSON.stringify({ ...slab, rows }));
      const files = writeCharts(dir, dir).map((f) => path.basename(f));
      expect(files).to.deep.equal(['slab-vs-nginx.svg', 'slab-vs-glibc.svg']);
      const bars = barsOf(fs.readFileSync(path.join(dir, 'slab-vs-glibc.svg'), 'utf8'));
      expect(bars).to.have.length(rows.filter((r) => r.vsGlibc !== null).length);
      expect(bars[0]).to.include({ label: 'a<b & "c"', value: 0.5, text: '0.500x' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
