/**
 * Declaring a dict, as `lua_shared_dict name size` does in nginx.conf:
 *
 * ```ts
 * import { zones, sharedDict } from 'shmzone';
 * const cache = sharedDict(zones, 'cache', '64m');
 * await zones.start(); // now the same dict in every process of the cluster
 * cache.set('k', 'v', 60_000);
 * ```
 *
 * The declaration registers a zone (tag `shmzone.dict`) whose init builds the dict in the
 * creating process and attaches to it everywhere else. Worker threads receive it with
 * `dict.transfer()` / `SharedDict.fromTransfer(handle)`.
 */
import { DictError, describeValue } from '../errors.js';
import type { Zone } from '../zone/zone.js';
import type { ZoneRegistry } from '../zone/registry.js';
import { parseSize } from '../zone/size.js';
import { SharedDict, type SharedDictOptions } from './dict.js';
import { verifyDictLocked } from './verify-dict.js';

/** The zone tag of every dict zone. */
export const DICT_TAG = 'shmzone.dict';
/** Smallest dict zone: room for the index, seqlocks, stats and a few pages of entries. */
export const MIN_DICT_SIZE = 128 * 1024;

/** Options of `sharedDict`: the dict's options, plus the zone's slab size-class mode. */
export interface SharedDictDeclaration extends SharedDictOptions {
  /** Slab size classes of the zone (see src/slab/sizeclass.ts); default the pool's. */
  sizeClasses?: 'pow2' | 'fine';
}

/**
 * Declare the dict `name` of `size` bytes (number, or a string like '64m', '512k') in
 * `registry` before `registry.start()`. Returns the SharedDict at once; it works after start.
 * Throws DictError ERR_DICT_SIZE for a zone below MIN_DICT_SIZE, and the registry's errors
 * (name, started). Declaring `name` again with the same size is allowed and returns another
 * SharedDict over the same zone (both see the same entries); another size throws ZoneError
 * ERR_ZONE_SIZE_CONFLICT, and a zone of that name declared for another use ERR_ZONE_TAG.
 */
export function sharedDict(
  registry: ZoneRegistry,
  name: string,
  size: number | string,
  options: SharedDictDeclaration = {},
): SharedDict {
  const bytes = parseSize(size);
  if (bytes < MIN_DICT_SIZE) {
    throw new DictError(
      'ERR_DICT_SIZE',
      `A dict zone needs at least ${MIN_DICT_SIZE} bytes, got ${describeValue(size)} for "${name}"`,
    );
  }
  const { sizeClasses, ...dictOptions } = options;
  const dict = new SharedDict(name, dictOptions);
  registry.add(name, bytes, {
    tag: DICT_TAG,
    ...(sizeClasses !== undefined ? { pool: { sizeClasses } } : {}),
    init(zone: Zone) {
      dict.attach(
        zone,
        () => zone.transfer(),
        (line) => registry.log(line),
      );
    },
    verify(zone: Zone) {
      verifyDictLocked(zone.pool, zone.root, name);
    },
  });
  return dict;
}
