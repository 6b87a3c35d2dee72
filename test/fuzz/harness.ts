/**
 * What the damaged-memory fuzz tests share: random word damage inside named regions, running
 * batches of cases in a child process under a per-case watchdog, and judging the outcomes
 * (every failure a shmzone error class with a code docs/errors.md documents; CLI exits 0 or
 * 1). The child fixtures print `{event:'case', i}` before and `{event:'done', i, ...}` after
 * each case.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import { prng } from '../fixtures/crash-slab-lib.js';
import { spawnFixture } from '../helpers/processes.js';

/** A case longer than this is a hang. */
export const CASE_LIMIT_MS = 5_000;

const DOCS = new URL('../../../docs/errors.md', import.meta.url);
const SHMZONE_ERRORS = new Set([
  'ShmzoneError',
  'ShmzoneArgumentError',
  'ZoneError',
  'SegmentError',
  'SlabError',
  'SlabCorruptionError',
  'LockError',
  'DictError',
]);

/** A word write: byte offset in the segment and the value. */
export type Damage = Array<[number, number]>;

export interface Case {
  name: string;
  damage: Damage;
}

export interface Outcome {
  event: 'done';
  i: number;
  started: boolean;
  works: boolean;
  failures: Array<{ op: string; name: string; code?: string; message: string }>;
  commands: Record<string, { exit: number; code?: string }>;
}

/** Every code docs/errors.md documents: `ERR_*` in its tables and the errno names. */
function documentedCodes(): Set<string> {
  const text = fs.readFileSync(DOCS, 'utf8');
  return new Set([...text.matchAll(/`(E[A-Z0-9_]+)`/g)].map((m) => m[1]));
}

/**
 * `n` cases of one to three random words written into the regions in turn. A word is 0, all
 * ones, one of the two `plausible` kinds for this zone (a ref, an offset), or random bits,
 * each with the same odds as the random bits.
 */
export function randomCases(
  regions: Record<string, [number, number]>,
  plausible: [(int: (k: number) => number) => number, (int: (k: number) => number) => number],
  seed: number,
  n: number,
): Case[] {
  const rnd = prng(seed);
  const int = (k: number): number => Math.floor(rnd() * k);
  const names = Object.keys(regions);
  const out: Case[] = [];
  for (let c = 0; c < n; c++) {
    const region = names[c % names.length];
    const [start, end] = regions[region];
    const damage: Damage = [];
    for (let k = 1 + int(3); k > 0; k--) {
      const off = (start + int(end - start)) & ~3;
      const pick = int(6);
      const value =
        pick === 0
          ? 0
          : pick === 1
            ? 0xffffffff
            : pick === 2
              ? plausible[0](int)
              : pick === 3
                ? plausible[1](int)
                : (rnd() * 4294967296) >>> 0;
      damage.push([off, value]);
    }
    out.push({ name: `seed ${seed} #${c} (${region})`, damage });
  }
  return out;
}

/** Runs cases first..first+count-1 of `all` in one `fixture` child; resolves with their outcomes. */
async function runBatch(
  fixture: string,
  all: Case[],
  namespaces: string[],
  first: number,
): Promise<Outcome[]> {
  const p = spawnFixture(fixture, [JSON.stringify(namespaces)]);
  p.child.stdin!.end();
  let hung: string | undefined;
  const watchdog = setInterval(() => {
    const started = p.lines.filter((x) => x.event === 'case');
    const last = started[started.length - 1] as { i: number; at?: number } | undefined;
    if (last === undefined) return;
    last.at ??= Date.now();
    if (
      Date.now() - last.at > CASE_LIMIT_MS &&
      !p.lines.some((x) => x.event === 'done' && x.i === last.i)
    ) {
      hung = all[first + last.i].name;
      p.child.kill('SIGKILL');
    }
  }, 100);
  const exit = await p.exited;
  clearInterval(watchdog);
  if (hung !== undefined) throw new Error(`case "${hung}" took over ${CASE_LIMIT_MS} ms (a hang)`);
  expect(exit.code, p.stderr()).to.equal(0);
  return p.lines.filter((x) => x.event === 'done') as unknown as Outcome[];
}

/** Every case, in `batches` child processes one after the other. */
export async function runCases(
  fixture: string,
  cases: Case[],
  nsOf: (i: number) => string,
  batches: number,
): Promise<Outcome[]> {
  const per = Math.ceil(cases.length / batches);
  const outcomes: Outcome[] = [];
  for (let first = 0; first < cases.length; first += per) {
    const count = Math.min(per, cases.length - first);
    const namespaces = Array.from({ length: count }, (_, k) => nsOf(first + k));
    outcomes.push(...(await runBatch(fixture, cases, namespaces, first)));
  }
  expect(outcomes).to.have.length(cases.length);
  return outcomes;
}

/** What is wrong with the outcomes, one line each, and how many cases ended working. */
export function judge(cases: Case[], outcomes: Outcome[]): { problems: string[]; working: number } {
  const documented = documentedCodes();
  const problems: string[] = [];
  let working = 0;
  for (let i = 0; i < cases.length; i++) {
    const o = outcomes[i];
    const where = `case "${cases[i].name}"`;
    for (const f of o.failures) {
      if (!SHMZONE_ERRORS.has(f.name) || f.code === undefined || !documented.has(f.code))
        problems.push(`${where}: ${f.op} threw ${f.name} ${f.code ?? '(no code)'}: ${f.message}`);
    }
    if (o.started && !o.works) problems.push(`${where}: started, but a store and read-back failed`);
    if (o.works) working++;
    for (const [cmd, r] of Object.entries(o.commands)) {
      if (r.exit !== 0 && r.exit !== 1) problems.push(`${where}: shmzone ${cmd} exited ${r.exit}`);
      if (r.code !== undefined && !documented.has(r.code))
        problems.push(`${where}: shmzone ${cmd} failed with undocumented ${r.code}`);
    }
  }
  return { problems, working };
}
