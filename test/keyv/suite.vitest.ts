/**
 * Keyv's own compliance suite, @keyv/test-suite unmodified, run the way its README says
 * (under vitest, not mocha: .ci/run runs it with test/keyv/vitest.config.ts), against
 * KeyvShmzone over a dict in a real shared-memory zone.
 */
import * as test from 'vitest';
import keyvTestSuite from '@keyv/test-suite';
import Keyv from 'keyv';
import { zones, sharedDict } from '../../src/index.js';
import { KeyvShmzone } from '../../src/keyv/index.js';

zones.configure({ mode: 'standalone', namespace: `keyv-suite-${process.pid}` });
const dict = sharedDict(zones, 'keyv', '4m');
await zones.start();
test.afterAll(() => zones.stop());

const store = (): KeyvShmzone => new KeyvShmzone(dict);
keyvTestSuite(test as never, Keyv, store as never);
