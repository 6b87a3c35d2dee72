/** Helpers of the CLI tests: run the built `shmzone` command, start and stop holder fixtures. */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { spawnFixture } from '../helpers/processes.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

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
export async function startHolder(namespace: string, prefix = ''): Promise<Holder> {
  const p = spawnFixture('cli-holder', [namespace, prefix]);
  const { pid } = (await p.waitFor('ready')) as { pid: number };
  return {
    child: p.child,
    pid,
    stop: async () => {
      p.child.stdin!.end();
      await p.exited;
    },
    kill: async () => {
      p.child.kill('SIGKILL');
      await p.exited;
    },
  };
}
