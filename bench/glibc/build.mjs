// Builds bench/glibc/harness.c (glibc's malloc under W1-W3), for bench/slab/run.ts.
//
//   node bench/glibc/build.mjs     prints the harness binary's path on stdout
//
// gcc -O2 as for the nginx harness; the binary stays in bench/.cache/glibc-harness/ and is
// rebuilt when harness.c, ../c/workloads.h or this script changed. Exits 1 with one line
// "glibc harness: <reason>" on stderr when gcc is missing or the build fails.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const OPT = '-O2';
const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, '..', '.cache', 'glibc-harness');
const binary = path.join(outDir, 'harness');
const inputs = [
  path.join(here, 'harness.c'),
  path.join(here, '..', 'c', 'workloads.h'),
  fileURLToPath(import.meta.url),
];

const built = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : -1;
if (!inputs.every((f) => fs.statSync(f).mtimeMs <= built)) {
  fs.mkdirSync(outDir, { recursive: true });
  const r = spawnSync(
    'gcc',
    [OPT, '-W', '-Wall', `-DHARNESS_CFLAGS="${OPT}"`, '-o', binary, inputs[0]],
    { encoding: 'utf8' },
  );
  if (r.error !== undefined || r.status !== 0) {
    process.stderr.write(
      `glibc harness: gcc failed: ${(r.stderr || r.error?.message || '').trim()}\n`,
    );
    process.exit(1);
  }
}
process.stdout.write(`${binary}\n`);
