/**
 * Fixture processes for the tests that need real children (crash, multiprocess, zone, cli):
 * start a compiled `test/fixtures/<name>.js` with process.execPath, collect its JSON lines,
 * wait for an event with a bound (and fail at once, with the child's stderr, when it exits
 * without it), and SIGKILL whatever is still running in an after hook (`killAllFixtures`), so
 * no test leaves a process behind.
 */
import fs from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

/** How a fixture ended. */
export interface FixtureExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running fixture and the JSON lines it has printed so far. */
export interface FixtureProcess {
  child: ChildProcess;
  pid: number;
  /** Each stdout line parsed as JSON; a line that is not JSON becomes `{event: 'text', text}`. */
  lines: Array<Record<string, unknown>>;
  stderr(): string;
  /** Resolves when the process has exited and its pipes closed. */
  exited: Promise<FixtureExit>;
  /**
   * Resolves with the first line whose `event` is `event`; rejects after `timeoutMs`, or as
   * soon as the process has exited without printing it (with its lines and stderr).
   */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** What a fixture run to its end printed, and how it ended. */
export interface FixtureRun extends FixtureExit {
  lines: Array<Record<string, unknown>>;
  stderr: string;
}

const running = new Set<ChildProcess>();

/**
 * Starts `test/fixtures/<name>.js` with `args`. Its stdin is a pipe the fixture may read
 * (commands, or end of input as "exit now"); fixtures that ignore stdin are not affected.
 */
export function spawnFixture(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): FixtureProcess {
  const file = new URL(`../fixtures/${name}.js`, import.meta.url);
  const child = spawn(process.execPath, [file.pathname, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  running.add(child);
  // A fixture that exits without reading its stdin must not crash the test with EPIPE.
  child.stdin!.on('error', () => {});
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
  let closed = false;
  const exited = new Promise<FixtureExit>((resolve) =>
    child.on('close', (code, signal) => {
      running.delete(child);
      closed = true;
      for (const w of waiters.splice(0)) w();
      resolve({ code, signal });
    }),
  );
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

/**
 * Runs a fixture to its end: its stdin is closed at once, and it is SIGKILLed if it is still
 * running after `timeoutMs`.
 */
export async function runFixture(
  name: string,
  args: string[],
  { timeoutMs = 20_000, env }: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<FixtureRun> {
  const p = spawnFixture(name, args, env);
  p.child.stdin!.end();
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  return { lines: p.lines, code, signal, stderr: p.stderr() };
}

/** SIGKILLs every fixture still running (after hooks) and waits until each has exited. */
export async function killAllFixtures(): Promise<void> {
  // Only children that have not emitted 'close' yet are in the set.
  const left = [...running];
  for (const c of left) c.kill('SIGKILL');
  await Promise.all(left.map((c) => new Promise<void>((r) => c.once('close', () => r()))));
}

/**
 * Whether any thread of process `pid` still runs (a zombie, dead but not yet reaped, does not
 * count). Every thread is asked, not only the leader: after a SIGKILL the leader can show Z
 * while other threads of the process are still exiting.
 */
export function stillRunning(pid: number): boolean {
  let threads: string[];
  try {
    threads = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false; // gone, or reaped
  }
  return threads.some((tid) => {
    try {
      return !/^\d+ \(.*\) [ZX]/.test(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      return false; // this thread finished meanwhile
    }
  });
}
