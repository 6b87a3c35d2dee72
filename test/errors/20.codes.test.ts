/**
 * The error codes are one closed list (issue 15): ERROR_CODES in src/errors.ts, a row for each
 * in docs/errors.md and no other row, and no `'ERR_...'` string in src/ outside the list. The
 * constructors' parameter type makes a throw site with an unknown code fail to compile; this
 * test catches the places a type cannot see (documentation, data fields, the CLI's codes).
 */
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, SegmentError, isErrorCode } from '../../src/errors.js';
import { toSegmentError } from '../../src/zone/segment.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return /\.(ts|cc|h)$/.test(e.name) ? [full] : [];
  });
}

describe('error codes', () => {
  it('ERROR_CODES has no duplicates', () => {
    expect(new Set(ERROR_CODES).size).to.equal(ERROR_CODES.length);
  });

  it('docs/errors.md has a row for exactly the codes in ERROR_CODES', () => {
    const doc = fs.readFileSync(path.join(root, 'docs/errors.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `(ERR_[A-Z0-9_]+)`/gm)].map((m) => m[1]!);
    expect([...new Set(rows)].sort()).to.deep.equal([...ERROR_CODES].sort());
  });

  it('every ERR_ string in src/ and native/ is in ERROR_CODES', () => {
    const unknown: string[] = [];
    for (const file of [
      ...sourceFiles(path.join(root, 'src')),
      ...sourceFiles(path.join(root, 'native')),
    ]) {
      const text = fs.readFileSync(file, 'utf8');
      // A code ends in a letter or digit; 'ERR_SLAB_' (a prefix test) is not a code.
      for (const m of text.matchAll(/['"`](ERR_[A-Z0-9_]*[A-Z0-9])['"`]/g)) {
        if (!isErrorCode(m[1]!)) unknown.push(`${path.relative(root, file)}: ${m[1]}`);
      }
    }
    expect(unknown).to.deep.equal([]);
  });

  it("keeps the addon's errno names and documented codes, and names anything else ERR_SEGMENT", () => {
    const fromAddon = (code: unknown): string =>
      toSegmentError(Object.assign(new Error('x'), { code }), '/shmzone.t.z').code;
    expect(fromAddon('ENOSPC')).to.equal('ENOSPC');
    expect(fromAddon('ERR_SEGMENT_OWNER')).to.equal('ERR_SEGMENT_OWNER');
    expect(fromAddon('ERR_MADE_UP')).to.equal('ERR_SEGMENT');
    expect(fromAddon(undefined)).to.equal('ERR_SEGMENT');
    expect(toSegmentError(new Error('y'), '/shmzone.t.z')).to.be.instanceOf(SegmentError);
  });
});
