/**
 * A Keyv storage adapter over a SharedDict, so that Keyv, cache-manager and cacheable keep
 * one cache for every process and thread of the host:
 *
 * ```ts
 * import Keyv from 'keyv';
 * import { zones, sharedDict } from 'shmzone';
 * import { KeyvShmzone } from 'shmzone/keyv';
 * const dict = sharedDict(zones, 'keyv', '64m');
 * await zones.start();
 * const keyv = new Keyv({ store: new KeyvShmzone(dict) });
 * ```
 *
 * Keyv prefixes keys with `namespace:` and tells the adapter its namespace; `clear()` and
 * `iterator()` touch only the keys of that namespace (an adapter without a namespace owns
 * the whole dict). Values are stored as Keyv hands them over (its serialised string, or,
 * with `serialize: undefined`, the value itself through the dict's codec).
 */
import { EventEmitter } from 'node:events';
import { DictError, describeValue } from '../errors.js';
import { SharedDict } from '../dict/dict.js';
import { FAILED } from '../dict/status.js';

/** One entry of `setMany`, as Keyv passes it. */
export interface KeyvShmzoneEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** The `opts` Keyv reads from an adapter. */
export interface KeyvShmzoneOptions {
  readonly dialect: 'shmzone';
  /** `shmzone://<dict name>`, for messages. */
  readonly url: string;
}

export class KeyvShmzone extends EventEmitter {
  /** The dict the entries live in. */
  readonly dict: SharedDict;
  readonly opts: KeyvShmzoneOptions;
  /** Set by Keyv: the prefix (`namespace:`) of this adapter's keys. */
  namespace?: string;

  /** An adapter over `dict` (a SharedDict, started or declared). */
  constructor(dict: SharedDict) {
    super();
    if (!(dict instanceof SharedDict)) {
      throw new DictError(
        'ERR_DICT_OPTION',
        `KeyvShmzone needs a SharedDict, got ${describeValue(dict)}`,
      );
    }
    this.dict = dict;
    this.opts = { dialect: 'shmzone', url: `shmzone://${dict.name}` };
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    return this.dict.get<T>(key);
  }

  async getMany<T = unknown>(keys: string[]): Promise<Array<T | undefined>> {
    return this.dict.getMany<T>(keys);
  }

  /**
   * Store `value` for `ttl` ms (none or 0: no expiry). Returns false, and emits 'error',
   * when the dict has no room even after evicting.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    return this.stored(key, this.dict.set(key, value, ttlOf(ttl)));
  }

  async setMany(entries: KeyvShmzoneEntry[]): Promise<boolean[]> {
    return entries.map(({ key, value, ttl }) =>
      this.stored(key, this.dict.set(key, value, ttlOf(ttl))),
    );
  }

  async delete(key: string): Promise<boolean> {
    return this.dict.delete(key);
  }

  /** Deletes every key; true when at least one was live. */
  async deleteMany(keys: string[]): Promise<boolean> {
    return this.dict.deleteMany(keys).some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    return this.dict.has(key);
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return this.dict.hasMany(keys);
  }

  /** Deletes the keys of this adapter's namespace (every key when it has none). */
  async clear(): Promise<void> {
    if (this.namespace === undefined || this.namespace === '') {
      this.dict.flushAll();
      return;
    }
    this.dict.deleteMany(this.ownKeys(this.namespace));
  }

  /** `[key, value]` of the live keys of `namespace` (all keys without one), keys as stored. */
  async *iterator(namespace?: string): AsyncGenerator<[string, unknown]> {
    const keys = namespace ? this.ownKeys(namespace) : this.dict.keys(0);
    for (const key of keys) {
      const value = this.dict.get(key);
      if (value !== undefined) yield [key, value];
    }
  }

  /** Nothing to close: the dict belongs to the zones, which `zones.stop()` closes. */
  async disconnect(): Promise<void> {}

  private ownKeys(namespace: string): string[] {
    const prefix = `${namespace}:`;
    return this.dict.keys(0).filter((key) => key.startsWith(prefix));
  }

  private stored(key: string, result: number): boolean {
    if (result !== FAILED) return true;
    // Keyv listens for 'error'; without a listener an 'error' event would throw.
    if (this.listenerCount('error') > 0)
      this.emit(
        'error',
        new DictError('ERR_DICT_NO_MEMORY', `dict "${this.dict.name}" has no room for "${key}"`),
      );
    return false;
  }
}

function ttlOf(ttl: number | undefined): number {
  return typeof ttl === 'number' && ttl > 0 ? ttl : 0;
}
