/** Child-process helpers for the zone tests: run fixtures, read their JSON lines, bounded waits. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** A running fixture and the JSON lines it has printed so far. */
export interface Running {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first line whose `event` is `event`; rejects after `timeoutMs`. */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts a compiled fixture (`test/fixtures/<name>.ts`) with `process.execPath`. */
export function start(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const file = new URL(`../fixtures/${name}.js`, import.meta.url);
  const child = spawn(process.execPath, [file.pathname, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env,
  });
  const lines: Array<Record<string, unknown>> = [];
  let out = '';
  let err = '';
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
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = async (event: string, timeoutMs = 15_000): Promise<Record<string, unknown>> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = lines.find((l) => l.event === event);
      if (hit !== undefined) return hit;
      if (Date.now() > end || child.exitCode !== null || child.signalCode !== null) {
        await new Promise((r) => setTimeout(r, 20));
        const late = lines.find((l) => l.event === event);
        if (late !== undefined) return late;
        throw new Error(`no "${event}" from ${name}: ${JSON.stringify(lines)} ${err}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { child, lines, stderr: () => err, done, waitFor };
}

/** Runs a fixture to its end (bounded) and returns its lines and exit status. */
export async function run(
  name: string,
  args: string[],
  timeoutMs = 20_000,
): Promise<{
  lines: Array<Record<string, unknown>>;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}> {
  const r = start(name, args);
  r.child.stdin!.end();
  const timer = setTimeout(() => r.child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await r.done;
  clearTimeout(timer);
  return { lines: r.lines, code, signal, stderr: r.stderr() };
}

/** Whether `/dev/shm/<segment without slash>` exists. */
export function segmentExists(segment: string): boolean {
  return fs.existsSync(`/dev/shm/${segment.replace(/^\//, '')}`);
}

/** Removes a segment file if present (after hooks). */
export function removeSegment(segment: string): void {
  fs.rmSync(`/dev/shm/${segment.replace(/^\//, '')}`, { force: true });
}

/** Names in /dev/shm, for "unchanged" assertions. */
export function shmListing(): string[] {
  return fs.readdirSync('/dev/shm').sort();
}
