/**
 * `npm run charts`: SVG charts from a benchmark run's results JSON.
 *
 *   node dist/bench/charts/run.js [--from dir] [--to dir]
 *
 * Reads slab.json and dict.json from `--from` (default bench/results, where `npm run bench`
 * writes them; either may be missing), writes the charts to `--to` (default docs/charts, the
 * copies the README shows) and, when the two differ, copies the JSON there too, so that the
 * committed charts sit next to the figures they were drawn from (test/bench/charts.test.ts
 * checks one against the other). `npm run bench` calls {@link writeCharts} with both
 * directories set to its results directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  dictCharts,
  slabCharts,
  type DictResults,
  type SlabResults,
  type NamedChart,
} from './figures.js';
import { renderBarChart } from './svg.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where `npm run bench` writes its JSON, and where the README's charts live. */
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
export const CHARTS_DIR = path.join(ROOT, 'docs', 'charts');

const SOURCES = ['slab.json', 'dict.json'] as const;

function readJson<T>(file: string): T | undefined {
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T) : undefined;
}

/** The charts the JSON files in `dir` give (none for a missing file). */
export function chartsFrom(dir: string): NamedChart[] {
  const slab = readJson<SlabResults>(path.join(dir, 'slab.json'));
  const dict = readJson<DictResults>(path.join(dir, 'dict.json'));
  return [...(slab ? slabCharts(slab) : []), ...(dict ? dictCharts(dict) : [])];
}

/** Writes the charts of `from`'s JSON into `to` (and the JSON, when `to` differs); returns the files. */
export function writeCharts(from: string, to: string): string[] {
  fs.mkdirSync(to, { recursive: true });
  const written: string[] = [];
  if (path.resolve(from) !== path.resolve(to)) {
    for (const name of SOURCES) {
      const src = path.join(from, name);
      if (!fs.existsSync(src)) continue;
      fs.copyFileSync(src, path.join(to, name));
      written.push(path.join(to, name));
    }
  }
  for (const { file, chart } of chartsFrom(from)) {
    const out = path.join(to, file);
    fs.writeFileSync(out, renderBarChart(chart));
    written.push(out);
  }
  return written;
}

function option(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? path.resolve(args[i + 1]) : fallback;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const args = process.argv.slice(2);
  const from = option(args, '--from', RESULTS_DIR);
  const files = writeCharts(from, option(args, '--to', CHARTS_DIR));
  if (files.length === 0) {
    console.error(`no slab.json or dict.json in ${from}: run "npm run bench" first`);
    process.exitCode = 1;
  }
  for (const f of files) console.log(`written: ${path.relative(process.cwd(), f)}`);
}
