/**
 * The published API, pinned (issue 15): every name each package entry exports, with the public
 * members of its classes and interfaces, read by the TypeScript checker from the emitted .d.ts
 * files (what consumers compile against, after `stripInternal`). A change to the surface must
 * change test/packaging/surface.txt in the same commit; regenerate it with
 * `SHMZONE_UPDATE_SURFACE=1 npx mocha --no-config dist/test/packaging/surface.test.js`.
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pinned = path.join(root, 'test/packaging/surface.txt');
const dist = path.join(root, 'dist') + path.sep;

interface PackageJson {
  exports: Record<string, string | { types?: string }>;
}

/** The .d.ts of each entry in package.json's `exports` that has types. */
function entryDeclarations(): [string, string][] {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  return Object.entries(pkg.exports).flatMap(([entry, target]) =>
    typeof target === 'object' && target.types !== undefined
      ? [[entry, path.join(root, target.types)] as [string, string]]
      : [],
  );
}

/** `__@hasInstance@33` (how the checker names a well-known symbol member) as `[Symbol.hasInstance]`. */
function memberLabel(m: ts.Symbol): string {
  const symbolic = /^__@([A-Za-z]+)@\d+$/.exec(m.name);
  return symbolic === null ? m.name : `[Symbol.${symbolic[1]}]`;
}

function memberNames(checker: ts.TypeChecker, symbol: ts.Symbol): string[] {
  const names = new Set<string>();
  // Members inherited from Error or Object belong to the platform, not to this package.
  const ours = (m: ts.Symbol): boolean =>
    (m.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(dist));
  const isPublic = (m: ts.Symbol): boolean =>
    ours(m) &&
    !(m.declarations ?? []).some((d) => {
      const flags = ts.getCombinedModifierFlags(d);
      return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
    });
  if (symbol.flags & ts.SymbolFlags.Class) {
    const instance = checker.getDeclaredTypeOfSymbol(symbol);
    for (const m of checker.getPropertiesOfType(instance))
      if (isPublic(m)) names.add(memberLabel(m));
    const statics = checker.getTypeOfSymbolAtLocation(symbol, symbol.valueDeclaration!);
    for (const m of checker.getPropertiesOfType(statics)) {
      if (m.name !== 'prototype' && isPublic(m)) names.add(`static ${memberLabel(m)}`);
    }
  } else if (symbol.flags & ts.SymbolFlags.Interface) {
    const declared = checker.getDeclaredTypeOfSymbol(symbol);
    for (const m of checker.getPropertiesOfType(declared)) if (ours(m)) names.add(memberLabel(m));
  }
  return [...names].sort();
}

function kindOf(symbol: ts.Symbol): string {
  const f = symbol.flags;
  if (f & ts.SymbolFlags.Class) return 'class';
  if (f & ts.SymbolFlags.Interface) return 'interface';
  if (f & ts.SymbolFlags.Function) return 'function';
  if (f & ts.SymbolFlags.Enum) return 'enum';
  if (f & ts.SymbolFlags.TypeAlias) return f & ts.SymbolFlags.Variable ? 'const+type' : 'type';
  if (f & ts.SymbolFlags.Variable) return 'const';
  return 'other';
}

/** One line per export: `<entry> <kind> <name> { members }`. */
function describeSurface(): string {
  const entries = entryDeclarations();
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  const lines: string[] = [];
  for (const [entry, file] of entries) {
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`${file} is missing: build first`);
    const moduleSymbol = checker.getSymbolAtLocation(source)!;
    for (const exported of checker.getExportsOfModule(moduleSymbol)) {
      const symbol =
        exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const members = memberNames(checker, symbol);
      const tail = members.length > 0 ? ` { ${members.join(', ')} }` : '';
      lines.push(`${entry} ${kindOf(symbol)} ${exported.name}${tail}`);
    }
  }
  return lines.sort().join('\n') + '\n';
}

describe('public surface', function () {
  this.timeout(60_000);

  it('matches test/packaging/surface.txt', () => {
    const actual = describeSurface();
    if (process.env.SHMZONE_UPDATE_SURFACE === '1') fs.writeFileSync(pinned, actual);
    expect(actual).to.equal(fs.readFileSync(pinned, 'utf8'));
  });

  it('publishes no @internal member and no underscore name', () => {
    const leaks = describeSurface()
      .split('\n')
      .filter((line) => /(^| |\{ |, )(static )?_[A-Za-z]/.test(line.replace(/^\S+ \S+ /, ' ')));
    expect(leaks).to.deep.equal([]);
  });
});
