/**
 * Helpers for the crash and multi-process tests: spawn compiled fixtures with
 * process.execPath, read their JSON lines, wait with bounds, and kill every child that is
 * still alive in an after hook (`killAll`), so no test leaves a process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Loop budgets: ~60 s / 150 kills in CI; `SHMZONE_TORTURE=long` for a much longer run. */
export const LONG = process.env.SHMZONE_TORTURE === 'long';

const alive = new Set<ChildProcess>();

export interface Proc {
  child: ChildProcess;
  pid: number;
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves when the process has exited and its pipes closed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `test/fixtures/<name>.js` with `args`. */
export function spawnFixture(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Proc {
  const file = new URL(`../fixtures/${name}.js`, import.meta.url);
  const child = spawn(process.execPath, [file.pathname, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  alive.add(child);
  const lines: Array<Record<string, unknown>> = [];
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ event: 'text', text: line });
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      alive.delete(child);
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
  let closed = false;
  void exited.then(() => (closed = true));
  const waitFor = (event: string, timeoutMs = 20_000): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `no "${event}" from ${name} within ${timeoutMs} ms: ${JSON.stringify(lines)} ${err}`,
          ),
        );
      }, timeoutMs);
      const look = (): void => {
        const hit = lines.find((l) => l.event === event);
        if (hit !== undefined) {
          clearTimeout(timer);
          resolve(hit);
        } else if (closed) {
          clearTimeout(timer);
          reject(new Error(`${name} exited without "${event}": ${JSON.stringify(lines)} ${err}`));
        } else {
          waiters.push(look);
        }
      };
      look();
    });
  return { child, pid: child.pid!, lines, stderr: () => err, exited, waitFor };
}

/** SIGKILLs every fixture still running (after hooks) and waits for them. */
export async function killAll(): Promise<void> {
  const left = [...alive];
  for (const c of left) c.kill('SIGKILL');
  await Promise.all(
    left.map(
      (c) =>
        new Promise<void>((r) =>
          c.exitCode !== null || c.signalCode !== null ? r() : c.once('close', () => r()),
        ),
    ),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a fixture to its end, SIGKILLing it after `timeoutMs`. */
export async function runFixture(
  name: string,
  args: string[],
  timeoutMs = 60_000,
  env?: NodeJS.ProcessEnv,
): Promise<Proc & { code: number | null; signal: NodeJS.Signals | null }> {
  const p = spawnFixture(name, args, env);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const r = await p.exited;
  clearTimeout(timer);
  return { ...p, ...r };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
}
export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(s.length * p))];
}
