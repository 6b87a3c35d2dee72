/**
 * The contenders of the dict benchmark, as seen from one measuring process. Each has a
 * `prepare` (attach/connect, and fill when asked) and either sync or async get/set.
 */
import fs from 'node:fs';
import { LRUCache } from 'lru-cache';
import { ZoneRegistry } from '../../src/zone/registry.js';
import { sharedDict } from '../../src/dict/declare.js';
import type { SharedDict } from '../../src/dict/dict.js';

export interface Env {
  /** Namespace of the SharedDict zone (parent created it). */
  namespace?: string;
  /** LMDB directory. */
  lmdbPath?: string;
  /** Redis port. */
  redisPort?: number;
}

export interface SyncContender {
  kind: 'sync';
  get(key: string): unknown;
  set(key: string, value: Buffer): unknown;
  close(): Promise<void> | void;
}

export interface AsyncContender {
  kind: 'async';
  /** Pipeline depth: that many operations are issued before awaiting them all. */
  depth: number;
  get(key: string): Promise<unknown>;
  set(key: string, value: Buffer): Promise<unknown>;
  /** For depth > 1: run a batch of operations (index stream slice) at once. */
  batch?(keys: string[], sets: (Buffer | undefined)[]): Promise<unknown>;
  close(): Promise<void> | void;
}

export type Contender = SyncContender | AsyncContender;

export const DICT_ZONE = 'c1';
export const DICT_SIZE = '64m';

export async function openContender(name: string, env: Env): Promise<Contender> {
  switch (name) {
    case 'shareddict':
    case 'shareddict-locked': {
      const registry = new ZoneRegistry({ namespace: env.namespace, mode: 'attach' });
      const dict: SharedDict = sharedDict(registry, DICT_ZONE, DICT_SIZE, {
        reads: name === 'shareddict' ? 'seqlock' : 'locked',
      });
      await registry.start();
      return {
        kind: 'sync',
        get: (k) => dict.get(k),
        set: (k, v) => dict.set(k, v),
        close: () => registry.stop(),
      };
    }
    case 'map': {
      const m = new Map<string, Buffer>();
      return {
        kind: 'sync',
        get: (k) => m.get(k),
        set: (k, v) => m.set(k, v),
        close: () => undefined,
      };
    }
    case 'lru-cache': {
      const c = new LRUCache<string, Buffer>({ max: 200_000 });
      return {
        kind: 'sync',
        get: (k) => c.get(k),
        set: (k, v) => c.set(k, v),
        close: () => undefined,
      };
    }
    case 'lmdb': {
      const { open } = await import('lmdb');
      const db = open<Buffer, string>({ path: env.lmdbPath!, encoding: 'binary', noSync: true });
      return {
        kind: 'sync',
        get: (k) => db.get(k),
        set: (k, v) => db.putSync(k, v),
        close: () => db.close(),
      };
    }
    case 'redis':
    case 'redis-pipelined': {
      const { Redis } = await import('ioredis');
      const r = new Redis({ port: env.redisPort, host: '127.0.0.1', lazyConnect: true });
      await r.connect();
      const depth = name === 'redis' ? 1 : 100;
      return {
        kind: 'async',
        depth,
        get: (k) => r.getBuffer(k),
        set: (k, v) => r.set(k, v),
        batch: (keys, sets) => {
          const p = r.pipeline();
          for (let i = 0; i < keys.length; i++) {
            const v = sets[i];
            if (v === undefined) p.getBuffer(keys[i]);
            else p.set(keys[i], v);
          }
          return p.exec();
        },
        close: async () => void (await r.quit()),
      };
    }
    case 'memored': {
      const memored = (await import('memored')).default as {
        read(k: string, cb: (err: unknown, v: unknown) => void): void;
        store(k: string, v: unknown, cb: (err: unknown) => void): void;
      };
      return {
        kind: 'async',
        depth: 1,
        get: (k) => new Promise((res, rej) => memored.read(k, (e, v) => (e ? rej(e) : res(v)))),
        set: (k, v) =>
          new Promise((res, rej) => memored.store(k, v, (e) => (e ? rej(e) : res(undefined)))),
        close: () => undefined,
      };
    }
    case 'lru-cache-for-clusters-as-promised': {
      const LRU = (await import('lru-cache-for-clusters-as-promised')).default as unknown as new (
        o: object,
      ) => {
        get(k: string): Promise<unknown>;
        set(k: string, v: unknown): Promise<unknown>;
      };
      const c = new LRU({ namespace: 'c1', max: 200_000 });
      return {
        kind: 'async',
        depth: 1,
        get: (k) => c.get(k),
        set: (k, v) => c.set(k, v),
        close: () => undefined,
      };
    }
    default:
      throw new Error(`unknown contender ${name}`);
  }
}

/** Contenders whose store lives in a cluster primary: the measuring processes are its workers. */
export const CLUSTER_CONTENDERS = new Set(['memored', 'lru-cache-for-clusters-as-promised']);
/** Contenders each process fills for itself (not shared). */
export const LOCAL_CONTENDERS = new Set(['map', 'lru-cache']);

export function rmrf(path: string): void {
  fs.rmSync(path, { recursive: true, force: true });
}
