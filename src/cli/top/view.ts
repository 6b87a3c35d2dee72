/**
 * The frames of `shmzone top` as lines of plain text: the zone overview, one zone's slab
 * classes, and the non-TTY report. Pure functions from a sample to strings (the terminal and
 * its escape codes are terminal.ts's business), so that the screen and `--once` print the
 * same figures from the same code.
 */
import type { PoolStats } from '../../slab/api.js';
import { formatBytes, formatPercent, formatTable } from '../format.js';
import type { Sample, ZoneRates, ZoneSample } from './sample.js';

/** Which screen is up and which zone is selected. */
export interface ViewState {
  view: 'zones' | 'slabs';
  /** Index into the sample's zones. */
  selected: number;
  /** First slab class row shown in the slab view (PgUp/PgDn). */
  slabScroll: number;
}

/** What one frame needs. */
export interface Frame {
  sample: Sample;
  rates: Map<string, ZoneRates>;
  /** Namespace the view is restricted to (undefined: all). */
  namespace?: string;
  intervalMs: number;
}

/** `[#####.....]`: `part` of `whole` as a bar `width` characters wide, brackets included. */
export function bar(part: number, whole: number, width: number): string {
  const inner = Math.max(1, width - 2);
  const filled = whole <= 0 ? 0 : Math.min(inner, Math.round((part / whole) * inner));
  // A non-zero part never shows as an empty bar, a partial one never as a full bar.
  const shown =
    part > 0 && filled === 0
      ? 1
      : part < whole && filled === inner && inner > 1
        ? inner - 1
        : filled;
  return `[${'#'.repeat(shown)}${'.'.repeat(inner - shown)}]`;
}

/** A rate per second: `0`, `7.5`, `950`, `12.3k`, `4.56M`; `-` when unknown. */
export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined) return '-';
  if (perSecond < 10) return perSecond === 0 ? '0' : perSecond.toFixed(1);
  if (perSecond < 1000) return perSecond.toFixed(0);
  if (perSecond < 1e6) return `${(perSecond / 1e3).toFixed(1)}k`;
  return `${(perSecond / 1e6).toFixed(2)}M`;
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}~`;
}

function zoneLabel(z: ZoneSample, frame: Frame): string {
  const s = z.summary;
  return frame.namespace === undefined ? `${s.namespace}.${s.zone}` : s.zone;
}

function pagesUsed(pool: PoolStats): number {
  return pool.pagesTotal - pool.pagesFree;
}

function hitRatio(z: ZoneSample): string {
  return z.dict === undefined ? '-' : formatPercent(z.dict.hits, z.dict.hits + z.dict.misses);
}

const TABLE_HEADER = [
  ' ',
  'ZONE'.padEnd(12),
  'SIZE'.padStart(9),
  ' PAGES USED'.padEnd(22),
  'ENTRIES'.padStart(8),
  'HIT%'.padStart(7),
  'GET/s'.padStart(8),
  'PEERS'.padStart(6),
].join(' ');

/** One overview row (78 columns), `>` marking the selected zone. */
function zoneRow(z: ZoneSample, frame: Frame, selected: boolean): string {
  const p = z.pool;
  const r = frame.rates.get(z.summary.segment);
  const pages =
    p === undefined
      ? cut(z.problem ?? '-', 20).padEnd(20)
      : `${bar(pagesUsed(p), p.pagesTotal, 14)} ${formatPercent(pagesUsed(p), p.pagesTotal).padStart(6)}`;
  return [
    selected ? '>' : ' ',
    cut(zoneLabel(z, frame), 12).padEnd(12),
    formatBytes(z.summary.size).padStart(9),
    ' ' + pages,
    (z.dict === undefined ? '-' : String(z.dict.entries)).padStart(8),
    hitRatio(z).padStart(7),
    (z.dict === undefined ? '-' : formatRate(r?.gets)).padStart(8),
    String(z.summary.livePeers).padStart(6),
  ].join(' ');
}

function count(n: number, perSecond: number | undefined): string {
  return `${n} (${formatRate(perSecond)}/s)`;
}

/** The selected zone's figures: header, pages, dict, rates, lock, peers. */
export function zonePanel(z: ZoneSample, frame: Frame, width: number): string[] {
  const s = z.summary;
  const r = frame.rates.get(s.segment);
  const lines: string[] = [];
  const creator = s.creatorPid === 0 ? '-' : `${s.creatorPid} ${s.creatorAlive ? 'alive' : 'dead'}`;
  lines.push(
    `${s.namespace}.${s.zone}  tag ${s.tag === '' ? '""' : (s.tag ?? '-')}  ${s.state ?? s.health}  ` +
      `gen ${s.generation ?? '-'}  ${formatBytes(s.size)}  creator ${creator}`,
  );
  if (z.problem !== undefined) lines.push(`  ! ${z.problem}`);
  const p = z.pool;
  if (p !== undefined) {
    lines.push(
      `  pages   ${bar(pagesUsed(p), p.pagesTotal, 22)} used ${pagesUsed(p)} free ${p.pagesFree} ` +
        `of ${p.pagesTotal} x ${formatBytes(p.pageSize)}`,
    );
  }
  const d = z.dict;
  if (d !== undefined) {
    lines.push(
      `  dict    entries ${d.entries}  bytes ${formatBytes(d.bytesUsed)}  hits ${d.hits}  ` +
        `misses ${d.misses}  hit ratio ${hitRatio(z)}`,
    );
    lines.push(
      `  per s   get ${formatRate(r?.gets)}  hit ${formatRate(r?.hits)}  miss ${formatRate(r?.misses)}  ` +
        `set ${formatRate(r?.sets)}  evict ${formatRate(r?.evictions)}  expire ${formatRate(r?.expirations)}`,
    );
    lines.push(`  totals  sets ${d.sets}  evictions ${d.evictions}  expirations ${d.expirations}`);
  } else if (p !== undefined) {
    lines.push(`  per s   alloc ${formatRate(r?.allocs)}`);
  }
  if (p !== undefined) {
    const l = p.lock;
    lines.push(
      `  lock    acquisitions ${count(l.acquisitions, r?.acquisitions)}  ` +
        `contended ${count(l.contended, r?.contended)}`,
    );
    lines.push(
      `          sleeps ${count(l.sleeps, r?.sleeps)}  recoveries ${l.recoveries}  sleepers ${l.sleepers}`,
    );
  }
  lines.push(...peerLines(z, width));
  return lines;
}

/** `pid/thread alive` per occupied peer slot, wrapped at `width`. */
function peerLines(z: ZoneSample, width: number): string[] {
  const peers = z.summary.peers;
  const head = `  peers   ${z.summary.livePeers} live of ${peers.length}`;
  if (peers.length === 0) return [head];
  const lines: string[] = [];
  let line = `${head}:`;
  peers.forEach((p, i) => {
    const item = ` ${p.pid}/${p.threadId} ${p.alive ? 'alive' : 'DEAD'}${i < peers.length - 1 ? ',' : ''}`;
    if (line.length + item.length > width) {
      lines.push(line);
      line = `         ${item}`;
    } else {
      line += item;
    }
  });
  lines.push(line);
  return lines;
}

/** Rows of {@link slabLines} below its header: the classes in use, then whole pages. */
export function slabRowCount(pool: PoolStats): number {
  return slabLines(pool).length - 1;
}

/** The slab classes of one pool: used/total per class as bars, requests and failures. */
export function slabLines(pool: PoolStats): string[] {
  const classes = pool.slots.filter((s) => s.total > 0 || s.reqs > 0 || s.used > 0);
  const rows = classes.map((s) => [
    formatBytes(s.size),
    bar(s.used, s.total, 22),
    String(s.used),
    String(s.total),
    String(s.reqs),
    String(s.fails),
  ]);
  rows.push([
    'pages',
    bar(pagesUsed(pool), pool.pagesTotal, 22),
    String(pagesUsed(pool)),
    String(pool.pagesTotal),
    String(pool.pageAllocs.reqs),
    String(pool.pageAllocs.fails),
  ]);
  return formatTable(['CLASS', 'USED/TOTAL', 'USED', 'TOTAL', 'REQS', 'FAILS'], rows, [
    'r',
    'l',
    'r',
    'r',
    'r',
    'r',
  ]).split('\n');
}

/** The title: namespace, zone count, view and when; the text report gives the full date. */
function titleLine(frame: Frame, view: string, when?: string): string {
  const n = frame.sample.zones.length;
  const time = when ?? `${new Date(frame.sample.at).toISOString().slice(11, 19)} UTC`;
  const ns = frame.namespace === undefined ? 'all namespaces' : `namespace ${frame.namespace}`;
  return `shmzone top  ${ns}  ${n} zone${n === 1 ? '' : 's'}  ${view}  ${time}  every ${frame.intervalMs / 1000}s`;
}

const FOOTER_ZONES = 'up/down j/k: zone   enter/tab: slab classes   r: refresh   q: quit';
const FOOTER_SLABS = 'up/down j/k: zone   enter/tab/esc/b: zones   PgUp/PgDn: scroll   q: quit';

/** Keeps the window of `visible` rows starting near `selected` within `total`. */
function windowStart(selected: number, visible: number, total: number): number {
  return Math.max(0, Math.min(selected - Math.floor(visible / 2), total - visible));
}

/** The full screen, `height` lines at most, each at most `width` characters. */
export function renderScreen(
  frame: Frame,
  state: ViewState,
  width: number,
  height: number,
): string[] {
  const zones = frame.sample.zones;
  const lines: string[] = [];
  const selected = zones[state.selected];
  if (state.view === 'slabs' && selected !== undefined) {
    lines.push(titleLine(frame, 'slab classes'), '');
    lines.push(...zonePanel(selected, frame, width).slice(0, 2));
    lines.push('');
    const [header, ...rows] =
      selected.pool === undefined
        ? ['', `  ${selected.problem ?? 'no pool'}`]
        : slabLines(selected.pool);
    lines.push(header);
    const room = Math.max(2, height - lines.length - 1); // all but the keys line
    if (rows.length > room) {
      const first = Math.max(0, Math.min(state.slabScroll, rows.length - (room - 1)));
      lines.push(...rows.slice(first, first + room - 1));
      lines.push(
        `  classes ${first + 1}-${first + room - 1} of ${rows.length}  (PgUp/PgDn, space: scroll)`,
      );
    } else {
      lines.push(...rows);
    }
  } else {
    lines.push(titleLine(frame, 'zones'), '');
    if (zones.length === 0) {
      lines.push('no shmzone segments');
    } else {
      const panel = zonePanel(selected ?? zones[0], frame, width);
      const room = Math.max(1, height - 5 - panel.length);
      const visible = Math.min(zones.length, room);
      const start = windowStart(state.selected, visible, zones.length);
      lines.push(TABLE_HEADER);
      for (let i = start; i < start + visible; i++)
        lines.push(zoneRow(zones[i], frame, i === state.selected));
      lines.push('');
      lines.push(...panel.slice(0, Math.max(0, height - lines.length - 1)));
    }
  }
  const out = lines.slice(0, height - 1).map((l) => cut(l, width));
  while (out.length < height - 1) out.push('');
  out.push(cut(state.view === 'slabs' ? FOOTER_SLABS : FOOTER_ZONES, width));
  return out;
}

/** The non-TTY report (`--once`, `--interval`): the overview, then every zone in full. */
export function renderText(frame: Frame): string {
  const zones = frame.sample.zones;
  const lines = [titleLine(frame, 'zones', new Date(frame.sample.at).toISOString())];
  if (zones.length === 0) return [...lines, 'no shmzone segments'].join('\n');
  lines.push(TABLE_HEADER.slice(2));
  for (const z of zones) lines.push(zoneRow(z, frame, false).slice(2));
  for (const z of zones) {
    lines.push('', ...zonePanel(z, frame, 100));
    if (z.pool !== undefined) lines.push('', ...slabLines(z.pool).map((l) => `  ${l}`));
  }
  return lines.join('\n');
}
