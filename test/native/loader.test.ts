/**
 * src/native-loader.ts: one addon per thread, reached synchronously by both of its importers,
 * and a library free of top-level await.
 *
 * Why the second matters: a top-level await anywhere in the library makes every module that
 * imports it an async module, and on Node 22 a worker thread terminated while such a module's
 * body runs aborts the whole process inside V8 (seen with the slab torture test's worker,
 * whose top level loops). Node 20 survives it, so no behavioural test on this machine's Node
 * could catch a regression; the source scan below does, on any Node.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { native } from '../../src/native.js';
import { requireNativeAddon, tryNativeAddon } from '../../src/native-loader.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** `file:line` of every `await` (or `for await`) outside any function in `source`. */
function topLevelAwaits(fileName: string, source: string): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    const isAwait =
      ts.isAwaitExpression(node) ||
      (ts.isForOfStatement(node) && node.awaitModifier !== undefined);
    if (isAwait) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      found.push(`${path.relative(root, fileName)}:${line}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

describe('native loader', () => {
  it('gives every importer the same addon object', () => {
    expect(tryNativeAddon()).to.equal(requireNativeAddon());
    // `native` is a lazy view of that object (loaded on first use, never at import).
    expect(native.futexWake).to.be.a('function');
    expect(native.futexWake).to.equal(requireNativeAddon().futexWake);
    expect(native.tokenSize).to.equal(requireNativeAddon().tokenSize);
  });

  it('the scan finds a top-level await, and ignores awaits inside functions', () => {
    const sample = [
      'const a = await import("x");',
      'for await (const y of z) {}',
      'async function f() { await g(); }',
      'const h = async () => { await g(); };',
      'class C { async m() { await g(); } }',
    ].join('\n');
    expect(topLevelAwaits(path.join(root, 'sample.ts'), sample)).to.deep.equal([
      'sample.ts:1',
      'sample.ts:2',
    ]);
  });

  it('no module of the library uses top-level await', () => {
    const files = sourceFiles(path.join(root, 'src'));
    expect(files.length).to.be.greaterThan(40);
    const found = files.flatMap((f) => topLevelAwaits(f, fs.readFileSync(f, 'utf8')));
    expect(found, 'top-level await in the library').to.deep.equal([]);
  });
});
