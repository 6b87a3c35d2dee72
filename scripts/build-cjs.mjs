// Emits dist/cjs: the library (src/ without the CLI) compiled to CommonJS, with its .d.ts.
//
// It is the package's only runtime implementation for consumers: package.json "exports" sends
// `require('shmzone')` here and `import 'shmzone'` to dist/esm/*.js, one-line ES module
// wrappers that re-export this same CommonJS module. Node loads a CommonJS file once per
// process whoever asks, so an import and a require share one `zones` registry and the same
// classes (no dual-package hazard), and require() works on every Node 20, which can require
// an ES module only from 20.19. The types are these same .d.ts files for both conditions (a
// CommonJS module's named exports are importable from ESM, also for TypeScript).
// test/packaging/cjs.test.ts guards all of this; dist/src (the ES module build) stays for the
// CLI and the tests.
//
// src/native-loader.ts is the one file with ES-module-only syntax (import.meta.url): TS1343
// is the one diagnostic tolerated here, and the emitted file gets __filename's URL instead.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist', 'cjs');
const esm = path.join(root, 'dist', 'esm');
const ENTRIES = { index: 'index', keyv: 'keyv/index', tier: 'tier/index' };
const LOADER = path.join(out, 'native-loader.js');

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return file === path.join(root, 'src', 'cli') ? [] : sources(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

const config = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const options = {
  ...config.options,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  types: ['node'],
  rootDir: path.join(root, 'src'),
  outDir: out,
  sourceMap: false,
  declarationMap: false,
  noCheck: true, // `tsc -p .` has type-checked the same sources
};
fs.rmSync(out, { recursive: true, force: true });
const program = ts.createProgram(sources(path.join(root, 'src')), options);
const emitted = program.emit();
const diagnostics = [
  ...program.getSyntacticDiagnostics(),
  ...program.getOptionsDiagnostics(),
  ...emitted.diagnostics,
];
const fatal = diagnostics.filter(
  (d) => !(d.code === 1343 && d.file?.fileName.endsWith('src/native-loader.ts')),
);
if (fatal.length > 0 || emitted.emitSkipped) {
  console.error(
    ts.formatDiagnostics(fatal, {
      ...ts.sys,
      getCanonicalFileName: (f) => f,
      getNewLine: () => '\n',
    }),
  );
  process.exit(1);
}

const loader = fs.readFileSync(LOADER, 'utf8');
const patched = loader.replaceAll(
  'import.meta.url',
  "require('node:url').pathToFileURL(__filename).href",
);
if (patched === loader) throw new Error(`${LOADER} has no import.meta.url to replace`);
fs.writeFileSync(LOADER, patched);
for (const file of fs.readdirSync(out, { recursive: true })) {
  if (
    file.endsWith('.js') &&
    fs.readFileSync(path.join(out, file), 'utf8').includes('import.meta')
  ) {
    throw new Error(`dist/cjs/${file} still uses import.meta, a syntax error in CommonJS`);
  }
}
fs.writeFileSync(path.join(out, 'package.json'), '{ "type": "commonjs" }\n');

// Named re-exports rather than `export *`, which would also export TypeScript's __esModule mark.
// Node finds a CommonJS module's export names statically (cjs-module-lexer); a name it missed
// would fail the import at link time, which the tests run on the oldest Node 20.
fs.rmSync(esm, { recursive: true, force: true });
fs.mkdirSync(esm, { recursive: true });
const require = createRequire(import.meta.url);
for (const [name, entry] of Object.entries(ENTRIES)) {
  const names = Object.keys(require(path.join(out, `${entry}.js`))).filter(
    (key) => key !== '__esModule',
  );
  const wrapper = `export {\n${names.map((key) => `  ${key},\n`).join('')}} from '../cjs/${entry}.js';\n`;
  fs.writeFileSync(path.join(esm, `${name}.js`), wrapper);
}
