/**
 * A SharedDict declared with `sharedDict(zones, ...)` exists before its zone has memory.
 * Until `attach` its session holds the placeholder host made here: `started` is false, so a
 * lock-free read goes to `throwIfClosed`, and every other way in (the lock, ROOT, the
 * pool's capacity and free space) throws DictError ERR_DICT_NOT_STARTED
 * (test/dict/85.zone.test.ts).
 */
import { DictError } from '../errors.js';
import { DictCore } from './core.js';
import type { DictHost, DictPool } from './pool.js';

function notStarted(name: string): never {
  throw new DictError(
    'ERR_DICT_NOT_STARTED',
    `dict "${name}" has no memory yet: await zones.start() first`,
  );
}

const PLACEHOLDER_SAB = new SharedArrayBuffer(64);
const PLACEHOLDER_POOL: DictPool = {
  u8: new Uint8Array(PLACEHOLDER_SAB),
  u32: new Uint32Array(PLACEHOLDER_SAB),
  i32: new Int32Array(PLACEHOLDER_SAB),
  capacity: 0,
  freeSpace: () => 0,
  lock: () => undefined,
  unlock: () => undefined,
  holdsLock: () => false,
  allocLocked: () => 0,
  callocLocked: () => 0,
  freeLocked: () => undefined,
  write32: () => undefined,
  commit: () => undefined,
  usableSize: () => 0,
  resetDamaged: () => undefined,
  recoveriesWord: 0,
  generation: 0,
  verify: () => undefined,
};

/** The core of every session before attach (DictSession.attached compares against it). */
export const PLACEHOLDER_CORE = new DictCore(PLACEHOLDER_POOL);

/** The host of dict `name` until `attach`. */
export function notStartedHost(name: string): DictHost {
  return {
    started: false,
    pool: {
      ...PLACEHOLDER_POOL,
      lock: () => notStarted(name),
      freeSpace: () => notStarted(name),
      get capacity(): number {
        return notStarted(name);
      },
    },
    get root(): number {
      return notStarted(name);
    },
    set root(_v: number) {
      notStarted(name);
    },
  };
}

/**
 * Throws the host's own error when it is not open: reading ROOT of a closed zone throws
 * ZoneError ERR_ZONE_CLOSED, of the placeholder DictError ERR_DICT_NOT_STARTED.
 */
export function throwIfClosed(host: DictHost): void {
  void host.root;
}
