/**
 * Text output of the `shmzone` command: sizes, tables, the `ls` listing and the `stat`
 * report (nginx-style slab table). Pure functions from data to strings; nothing here reads
 * shared memory.
 */
import type { DictStats } from '../dict/dict.js';
import type { PoolStats } from '../slab/api.js';
import type { ZoneSummary } from '../zone/inspect.js';

/** Bytes as `512 B`, `64.0 KiB`, `16.0 MiB`, `1.00 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** A ratio as a percentage with one decimal, or `-` when the denominator is 0. */
export function formatPercent(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((part * 100) / whole).toFixed(1)}%`;
}

/**
 * Lays out rows as columns separated by two spaces. `align` gives `l` or `r` per column
 * (default: right for cells that look numeric in every row, left otherwise).
 */
export function formatTable(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)));
  const numeric = /^[-+]?[\d.,]+( ?[%A-Za-z]+)?$|^-$/;
  const sides =
    align ??
    header.map((_, c) =>
      rows.length > 0 && rows.every((r) => numeric.test(r[c] ?? '')) ? 'r' : 'l',
    );
  return all
    .map((r) =>
      r
        .map((cell, c) => (sides[c] === 'r' ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function creatorText(s: ZoneSummary): string {
  if (s.creatorPid === 0) return '-';
  return `${s.creatorPid} (${s.creatorAlive ? 'alive' : 'dead'})`;
}

function stateText(s: ZoneSummary): string {
  if (s.health === 'ok') return s.state ?? '?';
  if (s.health === 'invalid') return `invalid: ${s.error?.code ?? '?'}`;
  return s.health;
}

/** The `shmzone ls` table. */
export function formatList(summaries: readonly ZoneSummary[]): string {
  if (summaries.length === 0) return 'no shmzone segments';
  const rows = summaries.map((s) => [
    s.namespace,
    s.zone,
    s.backend,
    formatBytes(s.size),
    s.tag === undefined ? '-' : s.tag === '' ? '""' : s.tag,
    stateText(s),
    creatorText(s),
    String(s.livePeers),
    s.stale ? 'yes' : 'no',
  ]);
  const table = formatTable(
    ['NAMESPACE', 'ZONE', 'BACKEND', 'SIZE', 'TAG', 'STATE', 'CREATOR', 'PEERS', 'STALE'],
    rows,
    ['l', 'l', 'l', 'r', 'l', 'l', 'l', 'r', 'l'],
  );
  // Why a name could not be read (a squatter's file or symlink, damage): one line each.
  const reasons = summaries
    .filter((s) => s.health === 'invalid' && s.error !== undefined)
    .map((s) => `${s.segment}: ${s.error?.code}: ${s.error?.message}`);
  return reasons.length === 0 ? table : `${table}\n\n${reasons.join('\n')}`;
}

/** Options of {@link formatStat}. */
export interface StatFormatOptions {
  /** Every size class, not only those that have been used. */
  allSlots?: boolean;
}

/** The slab table: one line per slot (size class) as in nginx's slab stats. */
export function formatSlots(pool: PoolStats, options: StatFormatOptions = {}): string {
  const slots = options.allSlots
    ? pool.slots
    : pool.slots.filter((s) => s.total > 0 || s.reqs > 0 || s.used > 0);
  const rows = slots.map((s) => [
    formatBytes(s.size),
    String(s.total),
    String(s.used),
    String(s.reqs),
    String(s.fails),
  ]);
  rows.push(['pages', '-', '-', String(pool.pageAllocs.reqs), String(pool.pageAllocs.fails)]);
  return formatTable(['SLOT', 'TOTAL', 'USED', 'REQS', 'FAILS'], rows, ['r', 'r', 'r', 'r', 'r']);
}

/** The `shmzone stat` report: zone summary, pages, slab table, lock counters, dict stats. */
export function formatStat(
  summary: ZoneSummary,
  pool: PoolStats,
  dict?: DictStats,
  options: StatFormatOptions = {},
): string {
  const lines: string[] = [];
  lines.push(`zone ${summary.zone}  namespace ${summary.namespace}  segment ${summary.segment}`);
  lines.push(
    `size ${formatBytes(summary.size)}  tag ${summary.tag === '' ? '""' : (summary.tag ?? '-')}  ` +
      `state ${stateText(summary)}  generation ${summary.generation ?? '-'}  ` +
      `creator ${creatorText(summary)}  live peers ${summary.livePeers}`,
  );
  lines.push(
    `pages ${pool.pagesTotal} x ${formatBytes(pool.pageSize)}  free ${pool.pagesFree} ` +
      `(${formatPercent(pool.pagesFree, pool.pagesTotal)})`,
  );
  lines.push('');
  lines.push(formatSlots(pool, options));
  lines.push('');
  const l = pool.lock;
  lines.push(
    `lock  acquisitions ${l.acquisitions}  contended ${l.contended}  spins ${l.spins}  ` +
      `sleeps ${l.sleeps}  recoveries ${l.recoveries}  sleepers ${l.sleepers}`,
  );
  if (dict !== undefined) {
    lines.push(
      `dict  entries ${dict.entries}  bytes ${formatBytes(dict.bytesUsed)}  hits ${dict.hits}  ` +
        `misses ${dict.misses}  hit ratio ${formatPercent(dict.hits, dict.hits + dict.misses)}  ` +
        `sets ${dict.sets}  evictions ${dict.evictions}  expirations ${dict.expirations}`,
    );
  }
  return lines.join('\n');
}
