/**
 * The glibc yardstick of the slab table: bench/glibc/harness.c (malloc/free under W1-W3, W5, the
 * same sizes in the same order as the TypeScript workloads), built by bench/glibc/build.mjs and
 * run in the same benchmark run as shmzone. No W4: malloc has no fixed-size zone to fill.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import type { ChildReport } from './child.js';

/** One line of bench/glibc/harness.c: a ChildReport plus the build it measured. */
export interface GlibcReport extends Omit<ChildReport, 'contender'> {
  variant: 'malloc';
  glibc: string;
  cc: string;
}

export type HarnessBuild = { binary: string } | { error: string };

/**
 * Builds (or finds cached) a C harness with bench/<name>/build.mjs, which prints the binary's
 * path or exits 1 with "<name> harness: <reason>"; its stderr goes to ours. Used for both the
 * glibc and the nginx harness.
 */
export function buildHarness(root: string, name: 'glibc' | 'nginx'): HarnessBuild {
  const script = path.join(root, 'bench', name, 'build.mjs');
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
  process.stderr.write(r.stderr ?? '');
  const binary = r.stdout?.trim().split('\n').pop() ?? '';
  if (r.status === 0 && binary !== '') return { binary };
  const last = (r.stderr ?? '').trim().split('\n').pop() ?? '';
  const reason = last.replace(`${name} harness: `, '');
  return { error: reason || r.error?.message || `build.mjs exited with status ${r.status}` };
}

/** One workload (W1-W3, W5) through glibc's malloc/free. */
export function runGlibc(binary: string, workload: string, quick: boolean): GlibcReport {
  const args = [workload, 'malloc'];
  if (quick) args.push('--quick');
  const out = execFileSync(binary, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as GlibcReport;
}
