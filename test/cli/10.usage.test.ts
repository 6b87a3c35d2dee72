/** `shmzone` usage: help, version, usage errors and not-found, with their exit codes. */
import { expect } from 'chai';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

describe('cli: usage and exit codes', () => {
  it('--help prints usage and the exit code table, exit 0', () => {
    const r = shmzone('--help');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^Usage: shmzone <command>/);
    for (const cmd of ['ls', 'stat <zone>', 'verify <zone>', 'rm --stale']) {
      expect(r.stdout).to.include(cmd);
    }
    expect(r.stdout).to.match(/Exit codes:[\s\S]*0 {2}ok[\s\S]*2 {2}usage[\s\S]*3 {2}not found/);
  });

  it('no command: usage on stderr, exit 2', () => {
    const r = shmzone();
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('Usage:');
  });

  it('--version prints the package version', () => {
    const r = shmzone('--version');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.match(/^\d+\.\d+\.\d+/);
  });

  it('an unknown command or option is a usage error (2), also as JSON', () => {
    expect(shmzone('frobnicate').code).to.equal(2);
    expect(shmzone('ls', '--bogus').code).to.equal(2);
    const r = shmzoneJson<{ error: { code: string } }>('frobnicate');
    expect(r.code).to.equal(2);
    expect(r.json.error.code).to.equal('ERR_USAGE');
  });

  it('malformed names and missing arguments are usage errors (2)', () => {
    expect(shmzone('stat').code).to.equal(2);
    expect(shmzone('stat', 'a', 'b').code).to.equal(2);
    expect(shmzone('stat', 'a.b.c').code).to.equal(2);
    expect(shmzone('stat', 'bad/name').code).to.equal(2);
    expect(shmzone('stat', 'ns1.zone', '--namespace', 'ns2').code).to.equal(2);
    expect(shmzone('ls', '--namespace', 'no.dots').code).to.equal(2);
    expect(shmzone('rm').code).to.equal(2);
    expect(shmzone('verify', 'z', '--timeout', 'soon').code).to.equal(2);
  });

  it('a zone that does not exist is not found (3), with a JSON error', () => {
    const ns = uniqueNamespace('cliusage');
    for (const cmd of ['stat', 'verify', 'rm', 'metrics']) {
      const r = shmzoneJson<{ error: { code: string; message: string } }>(cmd, `${ns}.nothing`);
      expect(r.code, cmd).to.equal(3);
      expect(r.json.error.code).to.equal('ERR_NOT_FOUND');
      expect(r.json.error.message).to.include(ns);
    }
    expect(shmzone('rm', '--namespace', ns).code).to.equal(3);
  });

  it('ls of an empty namespace lists nothing, exit 0', () => {
    const ns = uniqueNamespace('cliempty');
    const r = shmzoneJson<unknown[]>('ls', '--namespace', ns);
    expect(r.code).to.equal(0);
    expect(r.json).to.deep.equal([]);
    expect(shmzone('ls', '-n', ns).stdout).to.include('no shmzone segments');
  });
});
