// Builds bench/nginx/harness.c against nginx's own slab allocator, for bench/slab/run.ts.
//
//   node bench/nginx/build.mjs     prints the harness binary's path on stdout
//
// - Takes nginx's source from NGINX_SRC (a source directory, or the orig tarball) when set;
//   otherwise downloads Debian's orig tarball once from the Debian mirror this machine's apt is
//   configured with (/etc/apt/sources.list[.d]): no mirror is written into the repository.
//   A tarball's SHA-256 is always checked. The tarball, the configured source tree and the
//   binary stay in bench/.cache/, so a second run only rebuilds the binary when harness.c,
//   ../c/workloads.h or this script changed.
// - Runs nginx's ./configure with nothing optional (no http, no pcre: no extra libraries), for
//   the headers it generates (objs/ngx_auto_config.h), then compiles only ngx_slab.c,
//   ngx_shmtx.c and the harness, which stubs the little else they call.
// - -O2 for all three: nginx's configure defaults to -O, but distributions build the nginx
//   people run with -O2 (Debian's dpkg-buildflags), and the reference figures in
//   docs/specs/nginx-slab-notes.md were measured with -O2.
// - Exits 1 with one line "nginx harness: <reason>" on stderr when something is missing (gcc,
//   tar, the network on a first run); progress goes to stderr too.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/* global fetch, AbortSignal */

const VERSION = '1.22.1';
const TARBALL_POOL_PATH = `pool/main/n/nginx/nginx_${VERSION}.orig.tar.gz`;
// As listed in Debian's nginx_1.22.1-9+deb12u3.dsc, and computed from the download.
const TARBALL_SHA256 = '9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31';
const CONFIGURE_ARGS = ['--with-cc=gcc', '--without-http', '--without-pcre'];
const OPT = '-O2';
// nginx's own warning flags, without its -Werror: a newer gcc must not fail the benchmark.
const CFLAGS = [OPT, '-pipe', '-W', '-Wall', '-Wpointer-arith', '-Wno-unused-parameter'];
const NGINX_SOURCES = ['src/core/ngx_slab.c', 'src/core/ngx_shmtx.c'];
const INCLUDE_DIRS = ['src/core', 'src/event', 'src/event/modules', 'src/os/unix', 'objs'];

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const cache = path.join(root, 'bench', '.cache');
const tarball = path.join(cache, `nginx_${VERSION}.orig.tar.gz`);
const srcDir = path.join(cache, `nginx-${VERSION}`);
const configuredStamp = path.join(srcDir, 'objs', '.configured');
const outDir = path.join(cache, 'nginx-harness');
const binary = path.join(outDir, 'harness');
const harnessSource = path.join(here, 'harness.c');
const workloadsHeader = path.join(here, '..', 'c', 'workloads.h');
const log = path.join(cache, 'nginx-build.log');

function fail(reason) {
  process.stderr.write(`nginx harness: ${reason}\n`);
  process.exit(1);
}

function progress(message) {
  process.stderr.write(`nginx harness: ${message}\n`);
}

/** Runs a command; its output goes to the build log, and a failure ends the build. */
function run(command, args, cwd, what) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) {
    if (r.error.code === 'ENOENT') fail(`${command} not found; install it to measure nginx`);
    fail(`${what}: ${r.error.message}`);
  }
  fs.appendFileSync(log, `$ ${[command, ...args].join(' ')}\n${r.stdout}${r.stderr}\n`);
  if (r.status !== 0) {
    fail(`${what} failed (exit ${r.status}); see ${path.relative(process.cwd(), log)}`);
  }
}

function sha256(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Debian archive base URLs from apt's configuration (deb822 .sources and one-line .list). */
function aptDebianMirrors() {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(path.join(dir, f));
    }
  }
  const uris = [];
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    for (const raw of fs.readFileSync(file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (line.startsWith('#')) continue;
      const deb822 = /^URIs:\s*(.+)$/i.exec(line);
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
      for (const uri of deb822 ? deb822[1].split(/\s+/) : oneLine ? [oneLine[1]] : []) {
        // The main archive only: the security archive has no orig tarballs of old uploads.
        if (/\/debian\/?$/.test(uri)) uris.push(uri.replace(/\/$/, ''));
      }
    }
  }
  return [...new Set(uris)];
}

/** Copies a tarball given in NGINX_SRC into the cache, or downloads it; checks the SHA-256. */
async function fetchTarball() {
  if (fs.existsSync(tarball) && sha256(tarball) === TARBALL_SHA256) return;
  const given = process.env.NGINX_SRC;
  let body;
  let from;
  if (given) {
    from = given;
    body = fs.readFileSync(given);
  } else {
    const mirrors = aptDebianMirrors();
    if (mirrors.length === 0) {
      fail("no Debian archive in /etc/apt/sources.list[.d]; set NGINX_SRC to nginx's source");
    }
    from = `${mirrors[0]}/${TARBALL_POOL_PATH}`;
    progress(`downloading ${from}`);
    try {
      const response = await fetch(from, { signal: AbortSignal.timeout(120_000) });
      if (!response.ok) fail(`cannot download ${from}: HTTP ${response.status}`);
      body = Buffer.from(await response.arrayBuffer());
    } catch (err) {
      fail(`cannot download ${from}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
    }
  }
  const digest = crypto.createHash('sha256').update(body).digest('hex');
  if (digest !== TARBALL_SHA256) fail(`${from} has SHA-256 ${digest}, expected ${TARBALL_SHA256}`);
  // Written under another name first, so an interrupted run never leaves a truncated tarball.
  fs.writeFileSync(`${tarball}.part`, body);
  fs.renameSync(`${tarball}.part`, tarball);
}

/** NGINX_SRC when it names an nginx source directory (its version is the user's choice). */
function sourceDirectory() {
  const given = process.env.NGINX_SRC;
  if (!given || !fs.statSync(given, { throwIfNoEntry: false })?.isDirectory()) return null;
  if (!fs.existsSync(path.join(given, 'src/core/ngx_slab.c'))) {
    fail(`NGINX_SRC=${given} is a directory without src/core/ngx_slab.c`);
  }
  return given;
}

function isConfigured() {
  return (
    fs.existsSync(configuredStamp) &&
    fs.readFileSync(configuredStamp, 'utf8') === CONFIGURE_ARGS.join(' ')
  );
}

function configure() {
  // Start from a clean tree: a half-extracted or half-configured one is not to be trusted.
  progress(
    `extracting and configuring nginx ${VERSION} (log: ${path.relative(process.cwd(), log)})`,
  );
  fs.rmSync(srcDir, { recursive: true, force: true });
  fs.writeFileSync(log, `nginx ${VERSION} for the slab harness, ${new Date().toISOString()}\n`);
  if (sourceDirectory() !== null) {
    fs.cpSync(sourceDirectory(), srcDir, { recursive: true });
  } else {
    run('tar', ['-xzf', tarball, '-C', cache], cache, 'extracting the nginx tarball');
  }
  run('./configure', CONFIGURE_ARGS, srcDir, `nginx ${VERSION} ./configure`);
  fs.writeFileSync(configuredStamp, CONFIGURE_ARGS.join(' '));
}

function upToDate() {
  if (!fs.existsSync(binary) || !isConfigured()) return false;
  const built = fs.statSync(binary).mtimeMs;
  return [harnessSource, workloadsHeader, fileURLToPath(import.meta.url), configuredStamp].every(
    (f) => fs.statSync(f).mtimeMs <= built,
  );
}

function compile() {
  progress(`compiling ngx_slab.c, ngx_shmtx.c and harness.c with gcc ${OPT}`);
  fs.mkdirSync(outDir, { recursive: true });
  const includes = INCLUDE_DIRS.map((d) => `-I${path.join(srcDir, d)}`);
  // The harness reports its flags; passed without a shell, the quotes make a C string literal.
  const sources = [
    ...NGINX_SOURCES.map((s) => ({ file: path.join(srcDir, s), extra: [] })),
    { file: harnessSource, extra: [`-DHARNESS_CFLAGS="${OPT}"`] },
  ];
  const objects = [];
  for (const { file, extra } of sources) {
    const object = path.join(outDir, path.basename(file, '.c') + '.o');
    run('gcc', ['-c', ...CFLAGS, ...includes, ...extra, '-o', object, file], srcDir, 'gcc');
    objects.push(object);
  }
  run('gcc', ['-o', binary, ...objects, '-lpthread'], srcDir, 'linking the harness');
}

function checkTool(command) {
  const r = spawnSync(command, ['--version'], { encoding: 'utf8' });
  if (r.error) fail(`${command} not found; install it to measure nginx`);
}

// gcc and tar are checked before the download, and only when there is something to build.
if (!upToDate()) {
  checkTool('gcc');
  fs.mkdirSync(cache, { recursive: true });
  if (!isConfigured()) {
    if (sourceDirectory() === null) {
      checkTool('tar');
      await fetchTarball();
    }
    configure();
  }
  compile();
}
console.log(binary);
