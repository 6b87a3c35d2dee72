import { expect } from 'chai';
import { Packr } from 'msgpackr';
import { DictError } from '../../src/errors.js';
import { attachAgain, makeDict, thrown } from './util.js';
import { STORED } from '../../src/dict/status.js';
import { T_CUSTOM, T_JSON, T_V8 } from '../../src/dict/layout.js';

describe('SharedDict structured values (codecs)', () => {
  it('v8 (the default) round-trips Map, Set, Date, BigInt, typed arrays and cycles', () => {
    const { dict } = makeDict();
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    const value = {
      map: new Map([['a', 1]]),
      set: new Set([1, 2]),
      when: new Date(1_700_000_000_000),
      big: 2n ** 70n,
      f32: new Float32Array([1.5, -2]),
      cyclic,
    };
    expect(dict.set('k', value)).to.equal(STORED);
    const back = dict.get<typeof value>('k')!;
    expect(back.map.get('a')).to.equal(1);
    expect([...back.set]).to.deep.equal([1, 2]);
    expect(back.when.getTime()).to.equal(1_700_000_000_000);
    expect(back.big).to.equal(2n ** 70n);
    expect(back.f32).to.be.instanceOf(Float32Array);
    expect([...back.f32]).to.deep.equal([1.5, -2]);
    expect((back.cyclic.self as typeof cyclic).self).to.equal(back.cyclic);
    // A fresh object every read, not a shared one.
    expect(dict.get('k')).to.not.equal(back);
  });

  it('plain types keep their own encodings; arrays, bigint and objects use the codec', () => {
    const { dict } = makeDict();
    dict.set('s', 'x');
    dict.set('a', [1, 'two']);
    dict.set('b', 7n);
    expect(dict.get('s')).to.equal('x');
    expect(dict.get('a')).to.deep.equal([1, 'two']);
    expect(dict.get('b')).to.equal(7n);
    expect(dict.getStale('a')).to.deep.equal([1, 'two']);
    expect(dict.getInto('a', new Uint8Array(64))).to.equal(-1); // not bytes
  });

  it('json codec: stores JSON text; refuses BigInt with ERR_DICT_VALUE_ENCODE, nothing stored', () => {
    const t = makeDict(4 * 1024 * 1024, { codec: 'json' });
    t.dict.set('k', { a: [1, { b: null }] });
    expect(t.dict.get('k')).to.deep.equal({ a: [1, { b: null }] });
    const err = thrown(() => t.dict.set('k', { n: 1n }));
    expect(err).to.be.instanceOf(DictError);
    expect(err.code).to.equal('ERR_DICT_VALUE_ENCODE');
    expect(t.dict.get('k')).to.deep.equal({ a: [1, { b: null }] });
    // Another object over the same memory with the default codec still reads JSON values.
    expect(attachAgain(t).get('k')).to.deep.equal({ a: [1, { b: null }] });
  });

  it('custom codec: used both ways; a dict without it says ERR_DICT_VALUE_DECODE', () => {
    let encodes = 0;
    const codec = {
      encode: (v: unknown) => {
        encodes++;
        return Buffer.from(`<${JSON.stringify(v)}>`);
      },
      decode: (b: Buffer) => JSON.parse(b.toString().slice(1, -1)) as unknown,
    };
    const t = makeDict(4 * 1024 * 1024, { codec });
    t.dict.set('k', { x: 1 });
    expect(encodes).to.equal(1);
    expect(t.dict.get('k')).to.deep.equal({ x: 1 });
    expect(thrown(() => attachAgain(t).get('k')).code).to.equal('ERR_DICT_VALUE_DECODE');
    expect(attachAgain(t, { codec }).get('k')).to.deep.equal({ x: 1 });
  });

  it('msgpackr with records (the README codec): a reader whose Packr saw nothing decodes all', () => {
    // Records are defined inside each value, not in the encoder's state: a process that
    // never encoded anything (a fresh Packr here) must read every value another one wrote.
    const codecOf = (packr: Packr) => ({
      encode: (v: unknown) => packr.pack(v),
      decode: (b: Buffer) => packr.unpack(b) as unknown,
    });
    const writer = makeDict(4 * 1024 * 1024, { codec: codecOf(new Packr({ useRecords: true })) });
    const page = (n: number) => ({
      kind: 'page',
      items: Array.from({ length: n }, (_, i) => ({ id: i, name: `item-${i}`, ok: i % 2 === 0 })),
    });
    for (let n = 1; n <= 40; n++) writer.dict.set(`p${n}`, page(n));
    writer.dict.set('other', { id: 7, name: 'x', ok: true }); // a shape seen in an earlier value
    const reader = attachAgain(writer, { codec: codecOf(new Packr({ useRecords: true })) });
    for (let n = 40; n >= 1; n--) expect(reader.get(`p${n}`)).to.deep.equal(page(n));
    expect(reader.get('other')).to.deep.equal({ id: 7, name: 'x', ok: true });
  });

  it('a codec that throws or returns no bytes: ERR_DICT_VALUE_ENCODE, nothing changes', () => {
    const bad = makeDict(4 * 1024 * 1024, {
      codec: { encode: () => 'text' as unknown as Uint8Array, decode: () => 0 },
    });
    expect(thrown(() => bad.dict.set('k', {})).code).to.equal('ERR_DICT_VALUE_ENCODE');
    expect(bad.dict.size()).to.equal(0);
    const throwing = makeDict(4 * 1024 * 1024, {
      codec: {
        encode: () => {
          throw new Error('no');
        },
        decode: () => 0,
      },
    });
    throwing.dict.set('k', 1);
    expect(thrown(() => throwing.dict.set('k', {})).code).to.equal('ERR_DICT_VALUE_ENCODE');
    expect(throwing.dict.get('k')).to.equal(1);
  });

  it('bad codec options: ERR_DICT_OPTION', () => {
    for (const codec of ['msgpack', 1, { encode: () => new Uint8Array() }, null]) {
      const err = thrown(() => makeDict(4 * 1024 * 1024, { codec: codec as 'v8' }));
      expect(err.code).to.equal('ERR_DICT_OPTION');
    }
  });

  it('lists refuse structured values (ERR_DICT_VALUE_TYPE), nothing pushed', () => {
    const { dict } = makeDict();
    expect(thrown(() => dict.lpush('l', { a: 1 } as unknown as string)).code).to.equal(
      'ERR_DICT_VALUE_TYPE',
    );
    expect(dict.llen('l')).to.equal(0);
  });

  it('the type codes name the codec', () => {
    expect([T_V8, T_JSON, T_CUSTOM]).to.deep.equal([7, 8, 9]);
  });
});
