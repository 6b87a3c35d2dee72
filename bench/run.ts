/**
 * `npm run bench` entry: node dist/bench/run.js [slab|dict|all] [--quick]
 *
 * Each suite is a module `bench/<suite>/run.ts` exporting
 * `run(options: { quick: boolean }): Promise<void>`; it measures shmzone against its peers in
 * the same run and writes its results to bench/results/, charted below.
 */
import path from 'node:path';
import { RESULTS_DIR, writeCharts } from './charts/run.js';
import { run as runDict } from './dict/run.js';
import { run as runSlab } from './slab/run.js';

const SUITES = { slab: runSlab, dict: runDict } as const;
type SuiteName = keyof typeof SUITES;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const which = args.find((a) => !a.startsWith('--')) ?? 'all';
  if (which !== 'all' && !(which in SUITES)) {
    console.error(`usage: node dist/bench/run.js [${Object.keys(SUITES).join('|')}|all] [--quick]`);
    process.exitCode = 2;
    return;
  }
  const names = which === 'all' ? (Object.keys(SUITES) as SuiteName[]) : [which as SuiteName];
  for (const name of names) await SUITES[name]({ quick });
  // The charts of what the suites just wrote, next to their JSON (`npm run charts` copies
  // them to docs/charts for the README).
  for (const file of writeCharts(RESULTS_DIR, RESULTS_DIR)) {
    console.log(`chart: ${path.relative(process.cwd(), file)}`);
  }
}

await main();
