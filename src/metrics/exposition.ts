/**
 * Prometheus text exposition format, version 0.0.4: `# HELP` and `# TYPE` once per family,
 * then one `name{label="value"} number` line per sample; every line ends in `\n`.
 */
import { FAMILIES, type Labels, type ZoneSample } from './families.js';

/** The Content-Type a scrape endpoint should send with {@link formatMetrics}' output. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Renders the samples of one or more zones as Prometheus text. A family with no value in any
 * sample (e.g. dict families when no sample has dict stats) is left out entirely.
 */
export function formatMetrics(samples: readonly ZoneSample[]): string {
  let out = '';
  for (const family of FAMILIES) {
    const lines = samples.flatMap((s) =>
      family
        .values(s)
        .map((v) => `${family.name}${formatLabels(v.labels)} ${formatValue(v.value)}\n`),
    );
    if (lines.length === 0) continue;
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n`;
    out += `# TYPE ${family.name} ${family.type}\n`;
    out += lines.join('');
  }
  return out;
}
