/**
 * A horizontal bar chart as a standalone SVG string: groups of labelled bars on a linear or
 * logarithmic axis, optional reference lines, a title and a few lines of provenance. Each bar
 * carries its exact figure in `data-value` (and `data-group`, `data-label`), which the tests
 * compare with the results JSON. No dependency: the few SVG elements needed are written here.
 */

/** One bar: `value` is drawn, `text` printed at its end. */
export interface Bar {
  label: string;
  value: number;
  text: string;
}

/** Bars drawn together under a heading (a workload, a variant). */
export interface BarGroup {
  title: string;
  bars: Bar[];
}

/** What to draw. */
export interface BarChart {
  title: string;
  /** Small lines under the title: what the figures are, the run's date and machine. */
  subtitle: string[];
  axisLabel: string;
  scale: 'linear' | 'log';
  /** Vertical lines at these values (e.g. 1 = the yardstick). */
  references: Array<{ value: number; label: string }>;
  groups: BarGroup[];
  /** Small lines under the plot. */
  notes: string[];
}

const WIDTH = 800;
const LABEL_W = 250;
const VALUE_W = 90;
const PLOT_W = WIDTH - LABEL_W - VALUE_W - 20;
const BAR_H = 14;
const BAR_GAP = 5;
const GROUP_GAP = 12;
const LINE_H = 15;
/** A bar this many times the median of the others is an outlier: drawn clipped, marked. */
const OUTLIER_FACTOR = 10;
const PALETTE = ['#3b6ea5', '#d08c2f', '#5a9e4b', '#a44a4a', '#7a5ea8', '#4a9a9e', '#8a8a8a'];

/** Escapes text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[(s.length - 1) >> 1];
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  x(value: number): number;
}

function niceStep(range: number): number {
  const raw = range / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

function linearAxis(values: number[], references: number[]): Axis {
  const typical = median(values);
  const inRange = values.filter((v) => typical === 0 || v <= typical * OUTLIER_FACTOR);
  const top = Math.max(...inRange, ...references, 0) * 1.1 || 1;
  const step = niceStep(top);
  const max = Math.ceil(top / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { min: 0, max, ticks, x: (v) => (Math.min(v, max) / max) * PLOT_W };
}

function logAxis(values: number[], references: number[]): Axis {
  const positive = [...values, ...references].filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  const ticks: number[] = [];
  for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  const span = Math.log10(hi) - Math.log10(lo) || 1;
  return {
    min: lo,
    max: hi,
    ticks,
    x: (v) => ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / span) * PLOT_W,
  };
}

/** An axis figure: `0.5`, `2`, `10k`, `1M`. */
export function tickText(value: number): string {
  if (value >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (value >= 1e3) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

/** Renders `chart` as a complete SVG document. */
export function renderBarChart(chart: BarChart): string {
  const values = chart.groups.flatMap((g) => g.bars.map((b) => b.value));
  const refs = chart.references.map((r) => r.value);
  const axis = chart.scale === 'log' ? logAxis(values, refs) : linearAxis(values, refs);
  const labels = [...new Set(chart.groups.flatMap((g) => g.bars.map((b) => b.label)))];
  const colour = (label: string): string => PALETTE[labels.indexOf(label) % PALETTE.length];

  const out: string[] = [];
  let y = 26;
  out.push(text(12, y, chart.title, 'class="title"'));
  for (const line of chart.subtitle) {
    y += LINE_H;
    out.push(text(12, y, line, 'class="small"'));
  }
  y += 22;
  const plotTop = y;
  const x0 = LABEL_W;
  const behindBars = out.length;
  for (const g of chart.groups) {
    y += LINE_H;
    out.push(text(12, y - 3, g.title, 'class="group"'));
    for (const b of g.bars) {
      const w = Math.max(1, axis.x(b.value));
      const clipped = b.value > axis.max;
      out.push(text(x0 - 8, y + BAR_H - 3, b.label, 'text-anchor="end"'));
      out.push(
        `<rect x="${x0}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${colour(b.label)}" ` +
          `data-group="${escapeXml(g.title)}" data-label="${escapeXml(b.label)}" data-value="${b.value}"/>`,
      );
      // An off-scale bar fills the plot; its figure goes inside its end, marked as cut.
      if (clipped)
        out.push(
          text(x0 + w - 5, y + BAR_H - 3, `${b.text} (cut)`, 'text-anchor="end" fill="#fff"'),
        );
      else out.push(text(x0 + w + 5, y + BAR_H - 3, b.text));
      y += BAR_H + BAR_GAP;
    }
    y += GROUP_GAP;
  }
  const plotBottom = y - GROUP_GAP;
  const grid = axis.ticks.map((t) => {
    const x = (x0 + axis.x(t)).toFixed(1);
    return `<line x1="${x}" y1="${plotTop}" x2="${x}" y2="${plotBottom}" class="grid"/>`;
  });
  out.splice(behindBars, 0, ...grid);
  for (const t of axis.ticks) {
    out.push(
      text(x0 + axis.x(t), plotBottom + 14, tickText(t), 'text-anchor="middle" class="small"'),
    );
  }
  for (const r of chart.references) {
    const x = x0 + axis.x(r.value);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${plotTop - 6}" x2="${x.toFixed(1)}" y2="${plotBottom}" class="ref"/>`,
    );
    out.push(text(x + 3, plotTop - 8, r.label, 'class="small ref-label"'));
  }
  y = plotBottom + 32;
  out.push(text(x0 + PLOT_W / 2, y, chart.axisLabel, 'text-anchor="middle" class="small"'));
  for (const line of chart.notes) {
    y += LINE_H;
    out.push(text(12, y, line, 'class="small"'));
  }
  const height = y + 14;
  return [
    // The SVG namespace name that a standalone .svg file must declare; nothing fetches it.
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    '<style>.title{font-size:16px;font-weight:bold}.group{font-weight:bold}.small{font-size:11px;fill:#444}' +
      '.grid{stroke:#ddd;stroke-width:1}.ref{stroke:#c00;stroke-width:1.5;stroke-dasharray:4 3}.ref-label{fill:#c00}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}
