/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for the tests: every line
 * is `# HELP name text`, `# TYPE name type` or a sample; a family's TYPE comes once, before its
 * samples; samples of a family are contiguous; no sample repeats its name and labels; label
 * values use only the escapes \\ \" \n; the text ends with a newline; empty lines are ignored.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function fail(lineNo: number, line: string, why: string): never {
  throw new Error(`exposition line ${lineNo}: ${why}: ${JSON.stringify(line)}`);
}

function parseValue(text: string, lineNo: number, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) fail(lineNo, line, 'bad value');
  return Number(text);
}

function parseLabels(body: string, lineNo: number, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    if (eq < 0) fail(lineNo, line, 'label without =');
    const key = body.slice(i, eq);
    if (!LABEL.test(key)) fail(lineNo, line, `bad label name ${key}`);
    if (key in labels) fail(lineNo, line, `label ${key} twice`);
    if (body[eq + 1] !== '"') fail(lineNo, line, 'label value not quoted');
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = body[j];
      if (c === undefined) fail(lineNo, line, 'unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const e = body[j + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else fail(lineNo, line, `bad escape \\${e}`);
        j += 2;
      } else {
        value += c;
        j++;
      }
    }
    labels[key] = value;
    i = j + 1;
    if (i < body.length) {
      if (body[i] !== ',') fail(lineNo, line, 'labels not separated by ,');
      i++;
    }
  }
  return labels;
}

/** Parses the text; throws on the first violation. */
export function parseExposition(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition does not end with \\n');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | undefined;
  const family = (name: string): Family => {
    if (current?.name === name) return current;
    if (current !== undefined) closed.add(current.name);
    if (closed.has(name)) throw new Error(`family ${name} is not contiguous`);
    current = families.get(name) ?? { name, samples: [] };
    families.set(name, current);
    return current;
  };
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((line, index) => {
    const n = index + 1;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (m === null) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!NAME.test(name)) fail(n, line, 'bad metric name');
      const f = family(name);
      if (kind === 'HELP') {
        if (f.help !== undefined) fail(n, line, 'second HELP');
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) fail(n, line, 'bad escape in HELP');
        f.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (f.type !== undefined) fail(n, line, 'second TYPE');
        if (f.samples.length > 0) fail(n, line, 'TYPE after samples');
        if (!TYPES.has(rest)) fail(n, line, 'unknown type');
        f.type = rest;
      }
      return;
    }
    if (line === '') return; // the format ignores empty lines (prom-client separates families)
    if (line.trim() === '') fail(n, line, 'blank line with spaces');
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (m === null) fail(n, line, 'not a sample');
    const [, name, body, value] = m;
    const f = family(name);
    const labels = body === undefined ? {} : parseLabels(body, n, line);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) fail(n, line, 'duplicate sample');
    seen.add(key);
    f.samples.push({ name, labels, value: parseValue(value, n, line) });
  });
  return families;
}

/** The value of the one sample of `name` whose labels include `labels`. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string>,
): number {
  const f = families.get(name);
  if (f === undefined) throw new Error(`no family ${name}`);
  const hits = f.samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length !== 1)
    throw new Error(`${hits.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return hits[0].value;
}
