/** Helpers of the CLI tests: run the built `shmzone` command, start and stop holder fixtures. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const HOLDER = fileURLToPath(new URL('../fixtures/cli-holder.js', import.meta.url));

/** What one run of the command produced. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `shmzone ...args` as a real process. */
export function shmzone(...args: string[]): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `shmzone ...args --json` and parses stdout. */
export function shmzoneJson<T = unknown>(...args: string[]): { code: number | null; json: T } {
  const r = shmzone(...args, '--json');
  let json: T;
  try {
    json = JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, json };
}

/** A fixture process holding zones open. */
export interface Holder {
  child: ChildProcess;
  pid: number;
  /** Closes stdin (clean exit, segments removed) and waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILLs it (segments stay, stale) and waits for the exit. */
  kill(): Promise<void>;
}

/** Starts test/fixtures/cli-holder.ts in `namespace` and waits for its ready line. */
export function startHolder(namespace: string, prefix = ''): Promise<Holder> {
  const child = spawn(process.execPath, [HOLDER, namespace, prefix], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`holder exited early with ${code}`)));
    child.stdout?.on('data', (data: Buffer) => {
      buffered += data.toString();
      const line = buffered.split('\n').find((l) => l.includes('"ready"'));
      if (line === undefined) return;
      const { pid } = JSON.parse(line) as { pid: number };
      resolve({
        child,
        pid,
        stop: async () => {
          child.stdin?.end();
          await exited;
        },
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      });
    });
  });
}
