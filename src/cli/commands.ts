/**
 * The `shmzone` commands. Each takes the parsed arguments and an output sink and returns the
 * exit code; failures that end a command are thrown as CliError (see exit-codes.ts).
 */
import { DICT_TAG } from '../dict/declare.js';
import type { DictStats } from '../dict/dict.js';
import { readDictStats } from '../dict/read-stats.js';
import { verifyDictLocked, type DictReport } from '../dict/verify-dict.js';
import { formatMetrics } from '../metrics/exposition.js';
import type { PoolStats } from '../slab/api.js';
import { inspectAll, inspectZone, type InspectedZone, type ZoneSummary } from '../zone/inspect.js';
import type { CliArgs } from './args.js';
import { CliError, ExitCode } from './exit-codes.js';
import { formatList, formatStat } from './format.js';
import { checkNamespace, resolveZone } from './resolve.js';

/** Where a command writes: `out` for results, `err` for diagnostics. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

function json(io: Output, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

function errorCode(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : 'ERR_UNKNOWN';
}

function requireOne(args: CliArgs, what: string): string {
  if (args.positionals.length !== 1) {
    throw new CliError(
      ExitCode.USAGE,
      'ERR_USAGE',
      `${what} takes exactly one zone name, got ${args.positionals.length}`,
    );
  }
  return args.positionals[0];
}

function open(args: CliArgs, arg: string): InspectedZone {
  const ref = resolveZone(arg, args.namespace, args.dirs);
  try {
    return inspectZone(ref.namespace, ref.zone, ref);
  } catch (err) {
    if (errorCode(err) === 'ENOENT') {
      throw new CliError(ExitCode.NOT_FOUND, 'ERR_NOT_FOUND', `Zone "${arg}" was just removed`);
    }
    throw err;
  }
}

function requireReadable(z: InspectedZone): void {
  const s = z.summary;
  if (s.health === 'ok') return;
  const why =
    s.health === 'invalid'
      ? `${s.error?.code}: ${s.error?.message}`
      : s.health === 'blank'
        ? `its creator (pid ${s.creatorPid}, ${s.creatorAlive ? 'alive' : 'dead'}) has not written the header`
        : 'it is smaller than a zone header';
  throw new CliError(
    ExitCode.FAILURE,
    'ERR_ZONE_UNREADABLE',
    `${s.segment} cannot be read: ${why}`,
  );
}

/** Code and message of a problem found while reading a zone. */
interface Damage {
  code: string;
  message: string;
}

function damageOf(err: unknown): Damage {
  return { code: errorCode(err), message: (err as Error).message };
}

function isDictZone(z: InspectedZone): boolean {
  return z.summary.tag === DICT_TAG && z.summary.state === 'ready';
}

/**
 * The dict's counters, read without the lock and without writing (read-stats.ts): the CLI
 * never repairs what it reports on. Damage comes back as `damage`, not thrown.
 */
function dictStatsOrDamage(z: InspectedZone): { dict?: DictStats; damage?: Damage } {
  try {
    const dict = dictStatsOf(z);
    return dict === undefined ? {} : { dict };
  } catch (err) {
    return { damage: damageOf(err) };
  }
}

/**
 * The dict's stats when the zone holds a SharedDict (tag `shmzone.dict`) that is built, read
 * without the lock and without writing (read-stats.ts; also `shmzone top`). Throws DictError
 * ERR_DICT_CORRUPT when its header is damaged.
 */
export function dictStatsOf(z: InspectedZone): DictStats | undefined {
  if (!isDictZone(z)) return undefined;
  return readDictStats(z.pool, z.root, z.summary.zone);
}

/** `shmzone ls`. */
export function cmdList(args: CliArgs, io: Output): number {
  if (args.positionals.length > 0) {
    throw new CliError(ExitCode.USAGE, 'ERR_USAGE', 'ls takes no zone name (use --namespace)');
  }
  const ns = args.namespace === undefined ? undefined : checkNamespace(args.namespace);
  const summaries = inspectAll(ns, args.dirs).map((z) => z.summary);
  if (args.json) json(io, summaries);
  else io.out(formatList(summaries));
  return ExitCode.OK;
}

interface StatResult {
  summary: ZoneSummary;
  pool: PoolStats;
  dict?: DictStats;
  /** A damaged structure found while reading; the zone was left as it was. */
  damage?: Damage;
}

function collectStat(z: InspectedZone): StatResult {
  requireReadable(z);
  const pool = z.pool.stats();
  return { summary: z.summary, pool, ...dictStatsOrDamage(z) };
}

/** `shmzone stat <zone>`: exit 1 when the dict is damaged (the report says how). */
export function cmdStat(args: CliArgs, io: Output): number {
  const z = open(args, requireOne(args, 'stat'));
  const r = collectStat(z);
  if (args.json) json(io, r);
  else {
    io.out(formatStat(r.summary, r.pool, r.dict, { allSlots: args.all }));
    if (r.damage !== undefined) io.out(`DAMAGED: ${r.damage.code}: ${r.damage.message}`);
  }
  return r.damage === undefined ? ExitCode.OK : ExitCode.FAILURE;
}

/** `shmzone metrics <zone>`: damage shows as `shmzone_zone_damaged 1` (exit 0: keep scraping). */
export function cmdMetrics(args: CliArgs, io: Output): number {
  const z = open(args, requireOne(args, 'metrics'));
  const r = collectStat(z);
  const text = formatMetrics([
    {
      namespace: r.summary.namespace,
      zone: r.summary.zone,
      size: r.summary.size,
      pool: r.pool,
      livePeers: r.summary.livePeers,
      damaged: r.damage !== undefined,
      ...(r.dict !== undefined ? { dict: r.dict } : {}),
    },
  ]);
  io.out(text.trimEnd());
  return ExitCode.OK;
}

/**
 * `shmzone verify <zone>`: the slab invariants and, for a dict zone, the dict's own
 * (verify-dict.ts), under the zone lock. Reads only; a lock left by a dead thread is taken
 * over and rolled back as any user of the zone would.
 */
export function cmdVerify(args: CliArgs, io: Output): number {
  const z = open(args, requireOne(args, 'verify'));
  const s = z.summary;
  let failure: Damage | undefined;
  let dict: DictReport | undefined;
  if (s.health !== 'ok') {
    try {
      requireReadable(z);
    } catch (err) {
      failure = { code: 'ERR_ZONE_UNREADABLE', message: (err as Error).message };
    }
  } else {
    try {
      z.withLock((pool) => {
        pool.verify();
        if (isDictZone(z)) dict = verifyDictLocked(pool, z.root, s.zone);
      }, args.timeoutMs);
    } catch (err) {
      if (errorCode(err) === 'ERR_ZONE_LOCK_BUSY') throw err;
      failure = damageOf(err);
    }
  }
  const base = { namespace: s.namespace, zone: s.zone, segment: s.segment };
  const found = dict === undefined ? {} : { dict };
  if (args.json)
    json(
      io,
      failure === undefined
        ? { ...base, ok: true, ...found }
        : { ...base, ok: false, error: failure },
    );
  else if (failure !== undefined) io.out(`${s.segment}: FAILED: ${failure.message}`);
  else if (dict?.state === 'stale')
    io.out(`${s.segment}: ok (the dict predates a pool reset; its next user rebuilds it empty)`);
  else io.out(`${s.segment}: ok`);
  return failure === undefined ? ExitCode.OK : ExitCode.FAILURE;
}

interface RmOutcome {
  removed: string[];
  kept: Array<{ segment: string; reason: string }>;
  failed: Array<{ segment: string; code: string; message: string }>;
}

function inUse(s: ZoneSummary): boolean {
  return s.livePeers > 0 || (s.health !== 'ok' && s.creatorAlive);
}

/** `shmzone rm <zone> | --namespace ns | --stale`. */
export function cmdRemove(args: CliArgs, io: Output): number {
  if (args.positionals.length > 1) {
    throw new CliError(ExitCode.USAGE, 'ERR_USAGE', 'rm takes at most one zone name');
  }
  const arg = args.positionals[0];
  if (arg === undefined && args.namespace === undefined && !args.stale) {
    throw new CliError(
      ExitCode.USAGE,
      'ERR_USAGE',
      'rm needs a zone name, --namespace ns, or --stale',
    );
  }
  let targets: InspectedZone[];
  if (arg !== undefined) {
    targets = [open(args, arg)];
  } else {
    targets = inspectAll(
      args.namespace === undefined ? undefined : checkNamespace(args.namespace),
      args.dirs,
    );
    if (targets.length === 0 && !args.stale) {
      throw new CliError(
        ExitCode.NOT_FOUND,
        'ERR_NOT_FOUND',
        `No zone in namespace "${args.namespace}"`,
      );
    }
  }
  const outcome: RmOutcome = { removed: [], kept: [], failed: [] };
  for (const z of targets) {
    const s = z.summary;
    if (args.stale && !s.stale) {
      outcome.kept.push({ segment: s.segment, reason: 'not stale' });
      continue;
    }
    if (!args.stale && !args.force && inUse(s)) {
      outcome.kept.push({ segment: s.segment, reason: `in use by ${s.livePeers} live thread(s)` });
      continue;
    }
    try {
      // Stale or unused: re-checked under the lock, so a process attaching meanwhile wins.
      const removed = z.remove(!args.force && s.health === 'ok', args.timeoutMs);
      if (removed) outcome.removed.push(s.segment);
      else
        outcome.kept.push({ segment: s.segment, reason: 'in use (a process attached meanwhile)' });
    } catch (err) {
      outcome.failed.push({
        segment: s.segment,
        code: errorCode(err),
        message: (err as Error).message,
      });
    }
  }
  if (args.json) {
    json(io, outcome);
  } else {
    for (const r of outcome.removed) io.out(`removed ${r}`);
    for (const k of outcome.kept)
      if (!args.stale || k.reason !== 'not stale') io.out(`kept ${k.segment}: ${k.reason}`);
    for (const f of outcome.failed) io.err(`failed ${f.segment}: ${f.code}: ${f.message}`);
    if (outcome.removed.length === 0 && outcome.kept.length === 0 && outcome.failed.length === 0) {
      io.out('nothing to remove');
    } else if (args.stale && outcome.removed.length === 0 && outcome.failed.length === 0) {
      io.out('no stale segments');
    }
  }
  if (outcome.failed.length > 0) return ExitCode.FAILURE;
  if (!args.stale && outcome.kept.length > 0) return ExitCode.IN_USE;
  return ExitCode.OK;
}

/** Command name -> implementation. */
export const COMMANDS: Record<string, (args: CliArgs, io: Output) => number> = {
  ls: cmdList,
  list: cmdList,
  stat: cmdStat,
  verify: cmdVerify,
  metrics: cmdMetrics,
  rm: cmdRemove,
};
