/**
 * `shmzone top`: the text report against live zones whose counters a fixture moves, the
 * full-screen view in a real pseudo-terminal (tmux, 80x24: start, send keys, capture the
 * screen), and the pure layout at the edges (many zones, narrow terminal).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { DictStats } from '../../src/dict/index.js';
import type { PoolStats } from '../../src/index.js';
import { takeSample, sampleRates } from '../../src/cli/top/sample.js';
import { parseKeys } from '../../src/cli/top/terminal.js';
import { bar, formatRate, renderScreen } from '../../src/cli/top/view.js';
import { spawnFixture, type FixtureProcess } from '../helpers/processes.js';
import { uniqueNamespace } from '../helpers/shm.js';
import { shmzone, shmzoneJson } from './util.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface StatJson {
  pool: PoolStats;
  dict?: DictStats;
}

/** A fixture holding "cache" and "plain"; `send` moves counters and waits for the answer. */
class TopHolder {
  private next = 1;
  constructor(readonly p: FixtureProcess) {}

  static async start(ns: string): Promise<TopHolder> {
    const p = spawnFixture('top-holder', [ns]);
    await p.waitFor('ready');
    return new TopHolder(p);
  }

  /** Sends a command; resolves with the fixture's stats once it has been carried out. */
  send(command: Record<string, number>): Promise<Record<string, unknown>> {
    const id = this.next++;
    this.p.child.stdin!.write(JSON.stringify({ id, ...command }) + '\n');
    return this.p.waitFor(`done${id}`, 30_000);
  }

  async stop(): Promise<void> {
    this.p.child.stdin!.end();
    await this.p.exited;
  }
}

/** One line of the report or screen that starts with `prefix` (after indentation). */
function lineOf(text: string, prefix: RegExp): string {
  const line = text.split('\n').find((l) => prefix.test(l));
  if (line === undefined) throw new Error(`no line matching ${prefix} in:\n${text}`);
  return line;
}

describe('cli: shmzone top', () => {
  const ns = uniqueNamespace('top');
  let holder: TopHolder;

  before(async () => {
    holder = await TopHolder.start(ns);
    await holder.send({ sets: 40, hits: 25, misses: 5 });
  });

  after(async () => {
    await holder?.stop();
  });

  describe('--once (text)', () => {
    it('shows the figures shmzone stat reads: pages, entries, hit ratio, slab classes, peers', () => {
      const stat = shmzoneJson<StatJson>('stat', `${ns}.cache`).json;
      const plain = shmzoneJson<StatJson>('stat', `${ns}.plain`).json;
      const r = shmzone('top', '--once', '--interval', '0.2', '-n', ns);
      expect(r.code, r.stderr).to.equal(0);
      const text = r.stdout;
      expect(text).to.match(new RegExp(`^shmzone top {2}namespace ${ns} {2}2 zones`));
      const used = stat.pool.pagesTotal - stat.pool.pagesFree;
      const percent = ((used * 100) / stat.pool.pagesTotal).toFixed(1);
      // The overview row: size, pages bar and %, entries, hit ratio, get/s (idle: 0), peers.
      expect(lineOf(text, /^cache /)).to.match(
        new RegExp(`^cache +1\\.0 MiB +\\[#+\\.+\\] +${percent}% +40 +83\\.3% +0 +1$`),
      );
      expect(lineOf(text, /^plain /)).to.match(/^plain +256 KiB +\[#+\.+\] +[\d.]+% +- +- +- +1$/);
      expect(lineOf(text, /^ {2}pages /)).to.include(
        `used ${used} free ${stat.pool.pagesFree} of ${stat.pool.pagesTotal} x 4.0 KiB`,
      );
      expect(lineOf(text, /^ {2}dict /)).to.match(
        /entries 40 {2}bytes [\d.]+ KiB {2}hits 25 {2}misses 5 {2}hit ratio 83\.3%/,
      );
      expect(stat.dict).to.deep.include({ entries: 40, hits: 25, misses: 5 });
      // Idle: no rate, and top's own lock taking (for the dict stats) is not counted.
      expect(lineOf(text, /^ {2}per s /)).to.equal(
        '  per s   get 0  hit 0  miss 0  set 0  evict 0  expire 0',
      );
      expect(lineOf(text, /^ {2}lock /)).to.match(
        /acquisitions \d+ \(0\/s\) {2}contended \d+ \(0\/s\)/,
      );
      expect(lineOf(text, /^ {2}peers /)).to.equal(
        `  peers   1 live of 1: ${holder.p.pid}/0 alive`,
      );
      // The plain zone's slab classes as stat reports them: 8 B, 112 B and 3.0 KiB, one used each.
      for (const s of plain.pool.slots.filter((x) => x.used > 0)) {
        const size = s.size < 1024 ? `${s.size} B` : `${(s.size / 1024).toFixed(1)} KiB`;
        expect(text).to.match(
          new RegExp(
            `\\n +${size.replace('.', '\\.')} +\\[#+\\.*\\] +${s.used} +${s.total} +${s.reqs} +0\\n`,
          ),
        );
      }
    });

    it('counts gets per second while a process reads, and zero when it stops', async () => {
      const busy = holder.send({ busyMs: 2500 });
      await sleep(300);
      const r = shmzone('top', '--once', '--interval', '1', '-n', ns);
      const done = (await busy) as { dict: DictStats };
      const perSecond = lineOf(r.stdout, /^ {2}per s /);
      const gets = /get ([\d.]+)(k|M)?/.exec(perSecond)!;
      const rate = Number(gets[1]) * (gets[2] === 'M' ? 1e6 : gets[2] === 'k' ? 1e3 : 1);
      // Every get the holder did in 2.5 s happened within the run, so the rate over the ~1 s
      // window is more than zero and at most the holder's total.
      expect(rate).to.be.greaterThan(0);
      expect(rate).to.be.at.most(done.dict.hits);
      expect(lineOf(r.stdout, /^cache /)).to.not.match(/ 0 +1$/);
      const idle = shmzone('top', '--once', '--interval', '0.3', '-n', ns).stdout;
      expect(lineOf(idle, /^ {2}per s /)).to.match(/^ {2}per s {3}get 0 /);
      expect(lineOf(idle, /^ {2}dict /)).to.include(`hits ${done.dict.hits}`);
    });

    it('--count prints one report per interval', () => {
      const r = shmzone('top', '--count', '2', '--interval', '0.1', '-n', ns);
      expect(r.code).to.equal(0);
      expect(r.stdout.match(/^shmzone top /gm)).to.have.length(2);
    });

    it('rejects bad options with a usage error and reads nothing', () => {
      for (const args of [
        ['--interval', '0'],
        ['--interval', 'soon'],
        ['--count', '1.5'],
        ['--namespace', 'Bad Name!'],
        ['cache'],
        ['--bogus'],
      ]) {
        const r = shmzone('top', ...args);
        expect(r.code, args.join(' ')).to.equal(2);
        expect(r.stderr).to.match(/^shmzone: /);
        expect(r.stdout).to.equal('');
      }
    });
  });

  describe('in a terminal (tmux, 80x24)', () => {
    const socket = `shmzone-top-${process.pid}`;
    const tmux = (...args: string[]): string => {
      const r = spawnSync('tmux', ['-L', socket, ...args], {
        encoding: 'utf8',
        env: { ...process.env, TERM: 'xterm' },
      });
      if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const screen = (): string => tmux('capture-pane', '-p', '-t', 'top');
    /** Polls the screen until `ok` holds (the view refreshes every 0.3 s), 10 s at most. */
    const until = async (ok: (s: string) => boolean, what: string): Promise<string> => {
      let last = '';
      for (let i = 0; i < 100; i++) {
        last = screen();
        if (ok(last)) return last;
        await sleep(100);
      }
      throw new Error(`the screen never showed ${what}:\n${last}`);
    };

    before(function () {
      if (spawnSync('tmux', ['-V']).status !== 0) {
        throw new Error(
          'tmux is required for this test (apt-get install -y tmux; .ci/run does it)',
        );
      }
      const command = `'${process.execPath}' '${CLI}' top -n ${ns} --interval 0.3; echo "top exited $?"; sleep 60`;
      tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', command);
    });

    after(() => {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
    });

    it('shows the zones, follows the counters, switches zone and view, and quits on q', async () => {
      const ratio = (d: DictStats): string =>
        ((d.hits * 100) / (d.hits + d.misses)).toFixed(1).replace('.', '\\.');
      let d = ((await holder.send({})) as { dict: DictStats }).dict;
      // The second frame has rates (the first has none: '-').
      let s = await until((x) => /> cache .* 0 +1\n/.test(x), 'the zone list with rates');
      const rows = s.split('\n');
      expect(rows[0]).to.match(new RegExp(`^shmzone top {2}namespace ${ns} {2}2 zones {2}zones`));
      expect(s).to.match(
        new RegExp(`> cache +1\\.0 MiB +\\[#+\\.+\\] +[\\d.]+% +40 +${ratio(d)}% +0 +1`),
      );
      expect(s).to.match(/\n {2}plain +256 KiB/);
      expect(s).to.include(`${ns}.cache  tag shmzone.dict  ready`);
      expect(s).to.match(
        new RegExp(
          `dict {4}entries 40 .* hits ${d.hits} {2}misses ${d.misses} {2}hit ratio ${ratio(d)}%`,
        ),
      );
      expect(rows[23]).to.match(/^up\/down j\/k: zone/);

      // Counters moved by another process show up at the next refresh.
      d = ((await holder.send({ sets: 60, hits: 55, misses: 20 })) as { dict: DictStats }).dict;
      expect(d.entries).to.equal(60);
      s = await until((x) => / 60 +[\d.]+% /.test(x), 'entries 60');
      expect(s).to.match(
        new RegExp(`hits ${d.hits} {2}misses ${d.misses} {2}hit ratio ${ratio(d)}%`),
      );

      tmux('send-keys', '-t', 'top', 'Down');
      s = await until((x) => x.includes('> plain'), 'plain selected');
      expect(s).to.include(`${ns}.plain  tag top-test  ready`);
      expect(s).to.match(new RegExp(`peers {3}1 live of 1: ${holder.p.pid}/0 alive`));
      expect(s).to.not.match(/dict {4}entries/);

      tmux('send-keys', '-t', 'top', 'Enter');
      // Wait for the table itself, not only the title: a capture can land between the
      // first frame of the new view and the one drawn from the next sample.
      s = await until((x) => /CLASS +USED\/TOTAL +USED +TOTAL +REQS +FAILS/.test(x), 'slab table');
      expect(s).to.include('slab classes');
      expect(s).to.match(/3\.0 KiB +\[#+\.+\] +1 +4 +1 +0/);
      expect(s).to.match(/8 B +\[#\.+\] +1 +\d+ +1 +0/);

      tmux('send-keys', '-t', 'top', 'k');
      s = await until((x) => x.includes(`${ns}.cache  tag`), 'cache in the slab view');
      expect(s).to.match(/slab classes/);

      tmux('send-keys', '-t', 'top', 'Escape');
      await until((x) => x.includes('> cache'), 'back to the zone list');

      tmux('send-keys', '-t', 'top', 'q');
      s = await until((x) => x.includes('top exited'), 'the exit');
      expect(s).to.include('top exited 0');
      // The alternate screen is gone: the shell's screen is back, with none of top's frame.
      expect(s).to.not.include('shmzone top');
    });
  });

  describe('a dict zone whose pool was reset and not rebuilt yet', () => {
    const resetNs = uniqueNamespace('topreset');
    let reset: TopHolder;
    before(async () => {
      reset = await TopHolder.start(resetNs);
      await reset.send({ sets: 10 });
      await reset.send({ bumpGeneration: 1 });
    });
    after(async () => {
      await reset?.stop();
    });

    it('is shown as such, read-only: no dict figures, no rebuild, nothing on stderr', () => {
      const r = shmzone('top', '--once', '--interval', '0.1', '-n', resetNs);
      expect(r.code).to.equal(0);
      expect(r.stderr).to.equal('');
      expect(lineOf(r.stdout, /^cache /)).to.match(
        /^cache +1\.0 MiB +\[#+\.+\] +[\d.]+% +- +- +- +1$/,
      );
      expect(r.stdout).to.include(
        '  ! no current dict: the pool was reset (generation 1) and no process has rebuilt it yet',
      );
      expect(r.stdout).to.match(/\n {2}pages {3}\[/);
      // Still so for the next reader: top rebuilt nothing.
      expect(shmzone('top', '--once', '--interval', '0.1', '-n', resetNs).stdout).to.include(
        'no current dict',
      );
    });
  });

  describe('against the demo (a cluster app: primary, 2 workers, one SharedDict)', () => {
    it('shows its zone, its three live peers and the gets its workers serve', async () => {
      const demoNs = uniqueNamespace('topdemo');
      // The demo itself (dist/examples/demo.js), started like a fixture so that the after
      // hook kills it if the test fails half-way.
      const demo = spawnFixture('../../examples/demo', [], {
        ...process.env,
        SHMZONE_NAMESPACE: demoNs,
        DEMO_SECONDS: '6',
        DEMO_WORKERS: '2',
      });
      try {
        let report = '';
        for (let i = 0; i < 40; i++) {
          report = shmzone('top', '--once', '--interval', '0.5', '-n', demoNs).stdout;
          // Both, because the workers' first gets miss: a sample can show gets and no hit yet.
          if (/per s {3}get [1-9]/.test(report) && /hits [1-9]/.test(report)) break;
          await sleep(250);
        }
        expect(lineOf(report, /^demo /)).to.match(
          /^demo +16\.0 MiB +\[#+\.+\] +[\d.]+% +\d+ +[\d.]+% +[\d.]+k? +3$/,
        );
        expect(lineOf(report, /^ {2}per s /)).to.match(/get [1-9][\d.]*k?/);
        const peers = lineOf(report, /^ {2}peers /);
        expect(peers).to.match(/^ {2}peers {3}3 live of 3: /);
        expect(peers.match(/\d+\/0 alive/g)).to.have.length(3);
        expect(peers).to.include(`${demo.pid}/0 alive`);
        const [, hits, misses, ratio] = /hits (\d+) {2}misses (\d+) {2}hit ratio ([\d.]+)%/.exec(
          report,
        )!;
        expect(Number(hits)).to.be.greaterThan(0);
        expect(ratio).to.equal(((Number(hits) * 100) / (Number(hits) + Number(misses))).toFixed(1));
      } finally {
        const exit = await demo.exited;
        expect(exit.code, demo.stderr()).to.equal(0);
      }
    });
  });

  describe('layout', () => {
    it('fits 80x24 whatever the number of zones, the selected one in view', () => {
      const one = takeSample(ns, 200).zones[0];
      const zones = Array.from({ length: 40 }, (_, i) => ({
        ...one,
        summary: { ...one.summary, zone: `zone${i}`, segment: `/x.${i}` },
      }));
      const frame = {
        sample: { at: Date.now(), zones },
        rates: new Map(),
        intervalMs: 1000,
        namespace: ns,
      };
      for (const selected of [0, 17, 39]) {
        const lines = renderScreen(frame, { view: 'zones', selected, slabScroll: 0 }, 80, 24);
        expect(lines).to.have.length(24);
        for (const l of lines) expect(l.length).to.be.at.most(80);
        expect(lines.some((l) => l.startsWith(`> zone${selected} `))).to.equal(true);
      }
      const narrow = renderScreen(frame, { view: 'slabs', selected: 3, slabScroll: 0 }, 40, 10);
      expect(narrow).to.have.length(10);
      for (const l of narrow) expect(l.length).to.be.at.most(40);
    });

    it('the slab view scrolls through more classes than fit', () => {
      const one = takeSample(ns, 200).zones.find((z) => z.summary.zone === 'plain')!;
      const slots = Array.from({ length: 40 }, (_, i) => ({
        size: 8 * (i + 1),
        total: 100,
        used: i,
        cached: 0,
        reqs: i,
        fails: 0,
      }));
      const zone = { ...one, pool: { ...one.pool!, slots } };
      const frame = {
        sample: { at: Date.now(), zones: [zone] },
        rates: new Map(),
        intervalMs: 1000,
      };
      const top = renderScreen(frame, { view: 'slabs', selected: 0, slabScroll: 0 }, 80, 24);
      expect(top).to.have.length(24);
      // 24 rows: title, blank, 2 zone lines, blank, header, 16 classes, the position, the keys.
      expect(top[6]).to.match(/^ +8 B +\[\.+\] +0 +100 +0 +0$/);
      expect(top[22]).to.equal('  classes 1-16 of 41  (PgUp/PgDn, space: scroll)');
      const down = renderScreen(frame, { view: 'slabs', selected: 0, slabScroll: 10 }, 80, 24);
      expect(down[6]).to.match(/^ +88 B +\[#+\.+\] +10 +100 +10 +0$/);
      const end = renderScreen(frame, { view: 'slabs', selected: 0, slabScroll: 999 }, 80, 24);
      expect(end[21]).to.match(/^ *pages /);
      expect(end[22]).to.equal('  classes 26-41 of 41  (PgUp/PgDn, space: scroll)');
    });

    it('rates: none from one sample, none across a re-created zone', () => {
      const a = takeSample(ns, 200);
      expect(sampleRates(a, undefined).size).to.equal(0);
      const b = takeSample(ns, 200);
      b.at = a.at + 1000;
      expect(sampleRates(b, a).size).to.equal(2);
      const recreated = {
        ...b,
        zones: b.zones.map((z) => ({ ...z, summary: { ...z.summary, createdAt: 1 } })),
      };
      expect(sampleRates(recreated, a).size).to.equal(0);
    });

    it('bars, rates and keys', () => {
      expect(bar(0, 10, 12)).to.equal('[..........]');
      expect(bar(1, 1000, 12)).to.equal('[#.........]');
      expect(bar(999, 1000, 12)).to.equal('[#########.]');
      expect(bar(10, 10, 12)).to.equal('[##########]');
      expect(formatRate(undefined)).to.equal('-');
      expect(formatRate(0)).to.equal('0');
      expect(formatRate(7.25)).to.equal('7.3');
      expect(formatRate(12_345)).to.equal('12.3k');
      expect(formatRate(4_560_000)).to.equal('4.56M');
      expect(parseKeys('\x1b[A\x1b[Bjk\tq')).to.deep.equal([
        'up',
        'down',
        'down',
        'up',
        'toggle',
        'quit',
      ]);
      expect(parseKeys('\x1b')).to.deep.equal(['back']);
      expect(parseKeys('\x1b[5~\x1b[6~ u')).to.deep.equal([
        'pageUp',
        'pageDown',
        'pageDown',
        'pageUp',
      ]);
      expect(parseKeys('\x03')).to.deep.equal(['quit']);
    });
  });
});
