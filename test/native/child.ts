/**
 * Runs native test fixtures (compiled to dist/test/fixtures/) in child processes and worker
 * threads, and small helpers the native tests share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Absolute path of a compiled fixture, e.g. `fixture('native-futex-waiter')`. */
export function fixture(name: string): string {
  return path.resolve(here, '..', 'fixtures', `${name}.js`);
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `node [nodeArgs] fixture args...`; stdout/stderr are collected. */
export function startFixture(name: string, args: string[], nodeArgs: string[] = []): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(process.execPath, [...nodeArgs, fixture(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs a fixture to completion and parses the last stdout line as JSON. */
export async function runFixture<T>(name: string, args: string[], nodeArgs: string[] = []): Promise<T> {
  const { done } = startFixture(name, args, nodeArgs);
  const r = await done;
  if (r.code !== 0) throw new Error(`fixture ${name} exited with ${r.code ?? r.signal}: ${r.stderr}${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

/** Resolves once `check()` is true; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Number of open file descriptors of this process. */
export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Whether `/dev/shm/<name without slash>` exists. */
export function segmentExists(name: string): boolean {
  return fs.existsSync(`/dev/shm/${name.slice(1)}`);
}

export const isLinux = process.platform === 'linux';
export const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
