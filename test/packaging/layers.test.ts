/**
 * The source tree's layers only look down (issue 15): errors, then the native binding, then
 * slab, zone, dict, then the integrations (metrics, keyv), the tier, the CLI and the package
 * entry. A file may import its own folder and any lower layer, type imports included, and no
 * chain of runtime imports may lead back to the file it started from (type-only imports are
 * erased, so they cannot make a module-loading cycle).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Lower rank = lower layer. Folders of equal rank may not import each other. */
const RANK: Record<string, number> = {
  'errors.ts': 0,
  native: 1,
  slab: 2,
  zone: 3,
  dict: 4,
  metrics: 5,
  keyv: 5,
  tier: 6,
  cli: 7,
  'index.ts': 8,
};

function layerOf(file: string): string {
  const top = path.relative(src, file).split(path.sep)[0]!;
  return top === 'native.ts' || top === 'native-loader.ts' ? 'native' : top;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

interface Import {
  target: string;
  typeOnly: boolean;
}

/** Relative imports and re-exports of one file, resolved to .ts paths. */
function importsOf(file: string): Import[] {
  // Comments may quote import statements; drop them before scanning.
  const text = fs
    .readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const found: Import[] = [];
  const pattern =
    /(?:^|\n)\s*(import|export)(\s+type)?\b[^;'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g;
  for (const m of text.matchAll(pattern)) {
    const spec = (m[3] ?? m[4])!;
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    found.push({ target, typeOnly: m[2] !== undefined });
  }
  return found;
}

describe('source layers', () => {
  const files = sourceFiles(src);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('knows the layer of every top-level entry of src/', () => {
    const unknown = fs
      .readdirSync(src)
      .filter((e) => RANK[layerOf(path.join(src, e))] === undefined);
    expect(unknown, 'add new folders to RANK').to.deep.equal([]);
  });

  it('has no import that reaches up or sideways to another layer', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const { target } of targets) {
        const to = layerOf(target);
        if (to !== from && RANK[to]! >= RANK[from]!) {
          upward.push(`${path.relative(src, file)} -> ${path.relative(src, target)}`);
        }
      }
    }
    expect(upward).to.deep.equal([]);
  });

  it('has no import cycle between files', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const { target: next, typeOnly } of graph.get(file) ?? []) {
        if (typeOnly) continue;
        if (state.get(next) === 'open') {
          const loop = stack.slice(stack.indexOf(next)).concat(next);
          cycles.push(loop.map((f) => path.relative(src, f)).join(' -> '));
        } else if (state.get(next) === undefined && graph.has(next)) {
          visit(next);
        }
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of files) if (state.get(file) === undefined) visit(file);
    expect(cycles).to.deep.equal([]);
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((t) => !graph.has(t.target))
        .map((t) => `${path.relative(src, file)} -> ${t.target}`),
    );
    expect(missing).to.deep.equal([]);
  });
});
