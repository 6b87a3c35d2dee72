/**
 * Finds and loads the compiled addon, once per thread, without ever failing at import time.
 *
 * Two kinds of importer need it: `native.ts` (the zone layer, which cannot work without the
 * addon and throws a clear error when it is missing) and the slab lock (which must keep working
 * over a plain SharedArrayBuffer without it, falling back to timed polling). The lock therefore
 * asks `tryNativeAddon()` synchronously instead of `await import('./native.js')` in a try:
 * a top-level await makes every module that imports the library an async module, and on
 * Node 22 terminating a worker thread while such a module's body runs (a worker whose top
 * level loops, say) aborts the whole process inside V8 (`SourceTextModule::
 * AsyncModuleExecutionFulfilled`, "Check failed: (location_) != nullptr"). Keep the library
 * free of top-level await.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { ShmzoneError } from './errors.js';
import type { NativeAddon } from './native.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/src/native-loader.js -> package root is two levels up; src/native-loader.ts is one
// level up when run from source. node-gyp-build searches build/Release, build/Debug and
// prebuilds/.
const packageRoot =
  path.basename(path.dirname(here)) === 'dist'
    ? path.resolve(here, '../..')
    : path.resolve(here, '..');

let addon: NativeAddon | null = null;
let failure: ShmzoneError | null = null;

function load(): void {
  if (addon !== null || failure !== null) return;
  const requireHere = createRequire(import.meta.url);
  try {
    const nodeGypBuild = requireHere('node-gyp-build') as (dir: string) => NativeAddon;
    addon = nodeGypBuild(packageRoot);
  } catch (err) {
    failure = new ShmzoneError(
      'ERR_NATIVE_MISSING',
      `shmzone: the native addon could not be loaded from ${packageRoot} ` +
        `(${(err as Error).message}). Its install script did not run or failed: ` +
        `with npm run "npm rebuild shmzone"; with pnpm run "pnpm approve-builds" (pnpm skips ` +
        `dependency build scripts until approved), then "pnpm rebuild shmzone"; with yarn run ` +
        `"yarn rebuild shmzone" (Yarn 1 has no rebuild: "yarn install --force"). Compiling ` +
        `needs python3, make and a C++ compiler. Sharing between processes needs the addon; ` +
        `one process and its worker threads can share zones without it: ` +
        `new ZoneRegistry({ mode: 'threads' }).`,
      { cause: err },
    );
  }
}

/** The addon, or null when it cannot be loaded here (never throws). */
export function tryNativeAddon(): NativeAddon | null {
  load();
  return addon;
}

/** The addon; throws ShmzoneError ERR_NATIVE_MISSING (with the loader's error as cause). */
export function requireNativeAddon(): NativeAddon {
  load();
  if (addon === null) throw failure!;
  return addon;
}
