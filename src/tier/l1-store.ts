/**
 * The smallest Keyv store over a SharedDict that the tier needs (get, set with ttl, delete,
 * clear). Interim: replaced by 'shmzone/keyv' (KeyvShmzone) when that lands.
 */
import { EventEmitter } from 'node:events';
import type { SharedDict } from '../dict/dict.js';

export class TierL1Store extends EventEmitter {
  readonly opts = { dialect: 'shmzone' };
  namespace: string | undefined;

  constructor(private readonly dict: SharedDict) {
    super();
  }

  async get(key: string): Promise<string | undefined> {
    const value = this.dict.get(key);
    return typeof value === 'string' ? value : undefined;
  }

  async set(key: string, value: string, ttl?: number): Promise<boolean> {
    return this.dict.set(key, value, ttl ?? 0) !== 0;
  }

  async delete(key: string): Promise<boolean> {
    return this.dict.delete(key);
  }

  async clear(): Promise<void> {
    this.dict.flushAll();
  }
}
