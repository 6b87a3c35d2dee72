/** The dict layer's public surface (re-exported by src/index.ts). */
export {
  SharedDict,
  type SharedDictOptions,
  type SharedDictHandle,
  type DictStats,
} from './dict.js';
export { sharedDict, DICT_TAG, MIN_DICT_SIZE, type SharedDictDeclaration } from './declare.js';
export { DictStatus, FAILED, STORED, STORED_FORCIBLY, statusName, StoreResult } from './status.js';
export type { DictValue } from './codec.js';
export type { DictCodecOption, ValueCodec } from './values.js';
export type { SetManyEntry } from './batch.js';
export type { GetOrSetOptions, WrapOptions } from './flight.js';
