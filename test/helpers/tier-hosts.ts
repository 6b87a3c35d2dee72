/**
 * Simulated hosts for the tier tests: a host is a namespace with its own zones and its own
 * processes (test/fixtures/tier-host.ts); all hosts share one redis-server.
 */
import { spawnFixture, type FixtureProcess } from './processes.js';

export interface HostProcess {
  proc: FixtureProcess;
  host: string;
  /** Sends a command and resolves with its reply's value; rejects if the reply is an error. */
  call(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  /** How many lines with this event the process has printed. */
  count(event: string): number;
}

let nextId = 0;

export async function startHostProcess(
  host: string,
  url: string,
  leaseCheckMs = 250,
): Promise<HostProcess> {
  const proc = spawnFixture('tier-host', [host, url, String(leaseCheckMs)]);
  await proc.waitFor('ready', 20_000);
  const call = (op: string, args: Record<string, unknown> = {}, timeoutMs = 10_000) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++nextId;
      proc.child.stdin!.write(JSON.stringify({ id, op, ...args }) + '\n');
      const deadline = Date.now() + timeoutMs;
      const look = (): void => {
        const reply = proc.lines.find((l) => l.event === 'reply' && l.id === id);
        if (reply !== undefined) {
          if (reply.error !== undefined) reject(new Error(`${op} threw: ${String(reply.error)}`));
          else resolve(reply.value);
        } else if (Date.now() > deadline) {
          reject(new Error(`no reply to ${op} from ${host}/${proc.pid}: ${proc.stderr()}`));
        } else {
          setTimeout(look, 2);
        }
      };
      look();
    });
  const count = (event: string): number => proc.lines.filter((l) => l.event === event).length;
  return { proc, host, call, count };
}

/** Polls `probe` every 5 ms until it returns true; resolves with the ms it took. */
export async function within(
  limitMs: number,
  probe: () => Promise<boolean> | boolean,
  what: string,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probe()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the host process that holds the subscription (waits up to `limitMs`). */
export async function subscriberOf(procs: HostProcess[], limitMs = 5000): Promise<HostProcess> {
  let found: HostProcess | undefined;
  await within(
    limitMs,
    async () => {
      for (const p of procs) {
        if (p.proc.child.exitCode !== null || p.proc.child.signalCode !== null) continue;
        const m = (await p.call('metrics')) as { subscriber: boolean };
        if (m.subscriber && p.count('subscribed') > 0) found = p;
      }
      return found !== undefined;
    },
    'a subscriber',
  );
  return found!;
}

/**
 * Runs `write` (a write on another host) and waits until `host`'s subscriber has applied its
 * invalidation. A read on `host` made before that may backfill L1 only for the invalidation
 * to delete it a moment later, which is correct but would make a test of L1 sharing flaky.
 */
export async function writeAndAwaitApplied(
  host: HostProcess[],
  write: () => Promise<unknown>,
  limitMs = 2000,
): Promise<void> {
  const applied = async (): Promise<number> =>
    ((await host[0].call('metrics')) as { host: { applied: number } }).host.applied;
  const before = await applied();
  await write();
  await within(limitMs, async () => (await applied()) > before, 'the invalidation applied');
}
