/**
 * A real redis-server for tests (Debian's package, installed by .ci/run): started on
 * 127.0.0.1 with a free port and no persistence, stopped by pid. Never anything but
 * 127.0.0.1. `restart()` starts a fresh, empty server on the same port.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';

export interface RedisServer {
  port: number;
  url: string;
  pid(): number;
  /** SIGKILLs the server and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts a new (empty) server on the same port. */
  restart(): Promise<void>;
  /** Stops it by pid (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** True when a redis-server binary is on PATH. */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/** A port nothing listens on now, on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out}`));
    });
  });
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid!, signal);
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child.pid!,
    kill: () => killAndWait(child, 'SIGKILL'),
    async restart() {
      await killAndWait(child, 'SIGKILL');
      child = await launch(port);
    },
    async stop() {
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await killAndWait(child, 'SIGTERM');
      clearTimeout(timer);
    },
  };
}
