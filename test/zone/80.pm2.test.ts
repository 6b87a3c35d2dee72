/**
 * PM2, for real: the pm2 package from the registry (installed into a scratch prefix, its
 * daemon under a temporary PM2_HOME and killed at the end) runs test/fixtures/pm2-app.ts in
 * cluster mode with 2 instances and no shmzone options. Both instances must share one dict
 * (auto mode detects PM2: standalone in namespace `pm2-<app>`), so the counter served over
 * HTTP adds up across instances. Unit checks of the detection follow.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectPm2, pm2Namespace } from '../../src/zone/pm2.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { segmentExists } from './segments.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PM2_VERSION = '7';

/** One request on its own connection (PM2's cluster balances connections, not requests). */
function get(port: number, url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: url, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('zone under PM2 (real pm2 from the registry, cluster mode)', function () {
  this.timeout(180_000);
  let scratch: string;
  let pm2: (...args: string[]) => string;
  const app = uniqueNamespace('pm2');
  const port = 20_000 + (process.pid % 20_000);

  before(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'shmzone-pm2-'));
    fs.writeFileSync(path.join(scratch, 'package.json'), '{"private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', `pm2@${PM2_VERSION}`], {
      cwd: scratch,
      stdio: 'ignore',
    });
    const bin = path.join(scratch, 'node_modules/pm2/bin/pm2');
    const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: path.join(scratch, 'home') };
    for (const k of ['pm_id', 'name', 'NODE_APP_INSTANCE', 'exec_mode', 'SHMZONE_NAMESPACE'])
      delete env[k];
    pm2 = (...args) =>
      execFileSync(process.execPath, [bin, ...args], {
        env: { ...env, PORT: String(port) }, // pm2 start hands its environment to the app
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 60_000,
      });
  });

  after(() => {
    try {
      pm2('kill');
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('two cluster instances running the README snippet share one dict', async () => {
    const script = path.resolve(here, '../fixtures/pm2-app.js');
    pm2('start', script, '--name', app, '-i', '2');
    let calls = 0;
    const pids = new Set<string>();
    const incr = async (): Promise<void> => {
      const [pid] = (await get(port, '/incr')).split(' ');
      calls += 1;
      pids.add(pid!);
    };
    await waitUntil('answers from both instances', async () => {
      await incr();
      return pids.size === 2;
    });
    for (let i = 0; i < 40; i++) await incr();
    const [namespace, mode, hits] = (await get(port, '/get')).split(' ');
    expect(mode).to.equal('standalone');
    expect(namespace).to.equal(pm2Namespace(app));
    expect(Number(hits), 'hits counted by both instances').to.equal(calls);
    expect(segmentExists(`/shmzone.${namespace}.counters`)).to.equal(true);
    pm2('delete', app);
    expect(segmentExists(`/shmzone.${namespace}.counters`), 'last one out removes it').to.equal(
      false,
    );
  });
});

describe('PM2 detection (src/zone/pm2.ts)', () => {
  it('reads PM2 instance variables and ignores a bare `name`', () => {
    const env = { pm_id: '3', name: 'api', NODE_APP_INSTANCE: '1', exec_mode: 'cluster_mode' };
    expect(detectPm2(env)).to.deep.equal({ app: 'api', id: '3', execMode: 'cluster_mode' });
    expect(detectPm2({ name: 'api' })).to.equal(undefined);
    expect(detectPm2({ pm_id: '3', name: 'api' })).to.equal(undefined);
    expect(detectPm2({})).to.equal(undefined);
  });

  it('derives a valid namespace, distinct for names that differ only in replaced characters', () => {
    expect(pm2Namespace('api')).to.equal('pm2-api');
    const a = pm2Namespace('my.app');
    const b = pm2Namespace('my app');
    expect(a).to.match(/^pm2-my_app-[0-9a-f]{8}$/);
    expect(a).to.not.equal(b);
    expect(pm2Namespace('x'.repeat(200))).to.have.length(64);
  });
});
