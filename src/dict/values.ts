/**
 * Structured values: objects, arrays, Maps, Dates, BigInts... stored as the bytes of a codec.
 * Strings, numbers, booleans and Uint8Arrays never go through a codec (codec.ts keeps their
 * own encodings); anything else is encoded by the dict's codec and stored with a type code
 * naming that codec (T_V8, T_JSON, T_CUSTOM), so that a dict declared with another codec in
 * another process still decodes v8 and JSON values, and refuses only a custom one it lacks.
 */
import { serialize, deserialize } from 'node:v8';
import { DictError, describeValue } from '../errors.js';
import { T_CUSTOM, T_JSON, T_V8 } from './layout.js';

/** A user codec: `encode` returns the bytes of a value, `decode` rebuilds the value. */
export interface ValueCodec {
  encode(value: unknown): Uint8Array;
  decode(bytes: Buffer): unknown;
}

/** The `codec` option of a dict: node:v8 structured clone (default), JSON, or your own. */
export type DictCodecOption = 'v8' | 'json' | ValueCodec;

const V8_CODEC: ValueCodec = {
  encode: (value) => serialize(value),
  decode: (bytes) => deserialize(bytes) as unknown,
};

const JSON_CODEC: ValueCodec = {
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('JSON.stringify returned undefined');
    return Buffer.from(text, 'utf8');
  },
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
};

/** The codec of one dict object: how it encodes, and the type code its values carry. */
export class ValueCodecs {
  readonly encoder: ValueCodec;
  readonly type: number;
  private readonly custom: ValueCodec | null;

  constructor(option: DictCodecOption | undefined) {
    if (option === undefined || option === 'v8') {
      this.encoder = V8_CODEC;
      this.type = T_V8;
      this.custom = null;
    } else if (option === 'json') {
      this.encoder = JSON_CODEC;
      this.type = T_JSON;
      this.custom = null;
    } else if (
      typeof option === 'object' &&
      option !== null &&
      typeof option.encode === 'function' &&
      typeof option.decode === 'function'
    ) {
      this.encoder = option;
      this.type = T_CUSTOM;
      this.custom = option;
    } else {
      throw new DictError(
        'ERR_DICT_OPTION',
        `The "codec" option must be 'v8', 'json' or { encode, decode }, got ${describeValue(option)}`,
      );
    }
  }

  /** The bytes of `value`; DictError ERR_DICT_VALUE_ENCODE when the codec refuses it. */
  encode(value: unknown): Uint8Array {
    let bytes: unknown;
    try {
      bytes = this.encoder.encode(value);
    } catch (err) {
      throw new DictError(
        'ERR_DICT_VALUE_ENCODE',
        `The value could not be encoded (${describeValue(value)}): ${(err as Error).message}`,
        { cause: err },
      );
    }
    if (!(bytes instanceof Uint8Array)) {
      throw new DictError(
        'ERR_DICT_VALUE_ENCODE',
        `The codec's encode() must return a Uint8Array, got ${describeValue(bytes)}`,
      );
    }
    return bytes;
  }

  /** The value of `bytes` stored with type code `type`; DictError ERR_DICT_VALUE_DECODE. */
  decode(type: number, bytes: Buffer): unknown {
    const codec = type === T_V8 ? V8_CODEC : type === T_JSON ? JSON_CODEC : this.custom;
    if (codec === null) {
      throw new DictError(
        'ERR_DICT_VALUE_DECODE',
        'The value was stored with a custom codec, and this dict has none: declare it with the same { encode, decode }',
      );
    }
    try {
      return codec.decode(bytes);
    } catch (err) {
      throw new DictError(
        'ERR_DICT_VALUE_DECODE',
        `The stored value could not be decoded: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/**
 * What the read path returns for a structured value: its bytes, still encoded. The facade
 * decodes it once the read is validated (a torn copy is never decoded).
 */
export class EncodedValue {
  constructor(
    readonly type: number,
    readonly bytes: Buffer,
  ) {}
}
