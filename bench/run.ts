/**
 * `npm run bench` entry: node dist/bench/run.js [slab|dict|all] [--quick]
 *
 * Suites plug in here. Each suite is a module `dist/bench/<suite>/run.js` exporting
 * `run(options: { quick: boolean }): Promise<void>`. The slab suite always exists; the dict
 * suite (bench/dict/run.ts, owned by the dict layer) is imported only if it has been built, so
 * this entry works before it lands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, writeCharts } from './charts/run.js';

interface Suite {
  run(options: { quick: boolean }): Promise<void>;
}

const SUITES = ['slab', 'dict'] as const;

async function loadSuite(name: string): Promise<Suite | null> {
  const url = new URL(`./${name}/run.js`, import.meta.url);
  if (!fs.existsSync(fileURLToPath(url))) return null;
  return (await import(url.href)) as Suite;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const which = args.find((a) => !a.startsWith('--')) ?? 'all';
  if (which !== 'all' && !(SUITES as readonly string[]).includes(which)) {
    console.error(`usage: node dist/bench/run.js [${SUITES.join('|')}|all] [--quick]`);
    process.exitCode = 2;
    return;
  }
  for (const name of which === 'all' ? SUITES : [which]) {
    const suite = await loadSuite(name);
    if (suite === null) {
      console.log(`(${name} benchmarks not built yet: bench/${name}/run.ts missing; skipped)`);
      if (which !== 'all') process.exitCode = 1;
      continue;
    }
    await suite.run({ quick });
  }
  // The charts of what the suites just wrote, next to their JSON (`npm run charts` copies
  // them to docs/charts for the README).
  for (const file of writeCharts(RESULTS_DIR, RESULTS_DIR)) {
    console.log(`chart: ${path.relative(process.cwd(), file)}`);
  }
}

await main();
