/**
 * `shmzone top`: a refreshing view of a namespace's zones. On a TTY (stdin and stdout) a
 * full-screen view with keys; otherwise, or with `--once`, plain text reports, one per
 * `--interval`. It only reads: see sample.ts for what it reads and how long it holds a lock.
 */
import { parseArgs } from 'node:util';
import { CliError, ExitCode } from '../exit-codes.js';
import { checkNamespace } from '../resolve.js';
import { sampleRates, takeSample, type Sample } from './sample.js';
import { parseKeys, Screen, type KeyAction } from './terminal.js';
import { renderScreen, renderText, slabRowCount, type Frame, type ViewState } from './view.js';

/** The options of `shmzone top`. */
export interface TopOptions {
  namespace?: string;
  intervalMs: number;
  once: boolean;
  /** Text reports to print before exiting (non-TTY); undefined: until interrupted. */
  count?: number;
  /** Longest wait for a busy zone lock when reading dict stats, ms. */
  lockTimeoutMs: number;
}

/** Where `top` runs: the process's streams, replaceable for embedding. */
export interface TopIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

function usage(message: string): CliError {
  return new CliError(ExitCode.USAGE, 'ERR_USAGE', message);
}

function positiveNumber(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw usage(`--${name} must be a positive number, got ${text}`);
  return n;
}

/** Parses the arguments after `top`. Throws CliError USAGE. */
export function parseTopArgs(argv: string[]): TopOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        namespace: { type: 'string', short: 'n' },
        interval: { type: 'string', short: 'i' },
        once: { type: 'boolean' },
        count: { type: 'string' },
        timeout: { type: 'string' },
      },
    });
    values = parsed.values;
  } catch (err) {
    throw usage(`top: ${(err as Error).message}`);
  }
  const seconds = positiveNumber('interval', values.interval as string | undefined, 1);
  if (seconds < 0.1) throw usage(`--interval must be at least 0.1 s, got ${seconds}`);
  const count =
    values.count === undefined ? undefined : positiveNumber('count', values.count as string, 1);
  if (count !== undefined && !Number.isSafeInteger(count))
    throw usage(`--count must be a whole number, got ${count}`);
  const options: TopOptions = {
    intervalMs: Math.round(seconds * 1000),
    once: values.once === true,
    lockTimeoutMs: positiveNumber('timeout', values.timeout as string | undefined, 200),
  };
  if (values.namespace !== undefined)
    options.namespace = checkNamespace(values.namespace as string);
  if (count !== undefined) options.count = count;
  return options;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function frameOf(now: Sample, before: Sample | undefined, options: TopOptions): Frame {
  const frame: Frame = {
    sample: now,
    rates: sampleRates(now, before),
    intervalMs: options.intervalMs,
  };
  if (options.namespace !== undefined) frame.namespace = options.namespace;
  return frame;
}

/** Text reports: one after one interval with `--once`, else one per interval (`--count`). */
async function runText(options: TopOptions, out: NodeJS.WriteStream): Promise<number> {
  const reports = options.once ? 1 : (options.count ?? Infinity);
  // A reader that goes away (`shmzone top | head`) ends the reports, as it ends `vmstat 1`;
  // the handler stays, for writes still in flight.
  let closed = false;
  out.on('error', () => void (closed = true));
  let before = takeSample(options.namespace, options.lockTimeoutMs);
  for (let n = 0; n < reports && !closed; n++) {
    await sleep(options.intervalMs);
    const now = takeSample(options.namespace, options.lockTimeoutMs);
    out.write(`${n > 0 ? '\n' : ''}${renderText(frameOf(now, before, options))}\n`);
    before = now;
  }
  return ExitCode.OK;
}

/** The full-screen view; resolves when the user quits. */
function runScreen(options: TopOptions, io: TopIo): Promise<number> {
  const screen = new Screen(io.stdin, io.stdout);
  const state: ViewState = { view: 'zones', selected: 0, slabScroll: 0 };
  const page = (): number => Math.max(1, screen.height - 8);
  let selectedSegment: string | undefined;
  let before: Sample | undefined;
  let frame = frameOf(takeSample(options.namespace, options.lockTimeoutMs), undefined, options);

  const draw = (): void => {
    const zones = frame.sample.zones;
    // Follow the selected zone by name when zones come and go.
    const at = zones.findIndex((z) => z.summary.segment === selectedSegment);
    state.selected = at >= 0 ? at : Math.min(state.selected, Math.max(0, zones.length - 1));
    selectedSegment = zones[state.selected]?.summary.segment;
    screen.draw(renderScreen(frame, state, screen.width, screen.height));
  };
  const refresh = (): void => {
    before = frame.sample;
    frame = frameOf(takeSample(options.namespace, options.lockTimeoutMs), before, options);
    draw();
  };

  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      try {
        refresh();
      } catch (err) {
        finish();
        reject(err as Error);
      }
    }, options.intervalMs);
    const finish = (): void => {
      clearInterval(timer);
      io.stdin.off('data', onKeys);
      io.stdout.off('resize', draw);
      process.off('SIGTERM', finish);
      screen.close();
      resolve(ExitCode.OK);
    };
    const act = (a: KeyAction): void => {
      const n = frame.sample.zones.length;
      if (a === 'quit') return finish();
      if (a === 'up' && n > 0) state.selected = (state.selected + n - 1) % n;
      else if (a === 'down' && n > 0) state.selected = (state.selected + 1) % n;
      else if (a === 'pageUp') state.slabScroll = Math.max(0, state.slabScroll - page());
      else if (a === 'pageDown') {
        const pool = frame.sample.zones[state.selected]?.pool;
        const rows = pool === undefined ? 0 : slabRowCount(pool);
        state.slabScroll = Math.max(0, Math.min(state.slabScroll + page(), rows - page()));
      } else if (a === 'toggle') state.view = state.view === 'zones' ? 'slabs' : 'zones';
      else if (a === 'back') state.view = 'zones';
      else if (a === 'refresh') return refresh();
      const now = frame.sample.zones[state.selected]?.summary.segment;
      if (now !== selectedSegment) state.slabScroll = 0;
      selectedSegment = now;
      draw();
    };
    const onKeys = (chunk: string | Buffer): void => {
      for (const a of parseKeys(String(chunk))) {
        act(a);
        if (a === 'quit') return;
      }
    };
    io.stdin.on('data', onKeys);
    io.stdout.on('resize', draw);
    process.once('SIGTERM', finish);
    try {
      draw();
    } catch (err) {
      finish();
      reject(err as Error);
    }
  });
}

/** Runs `shmzone top` with the arguments after `top`; resolves to the exit code. */
export async function runTop(argv: string[], io: TopIo): Promise<number> {
  const options = parseTopArgs(argv);
  if (options.once || options.count !== undefined || !io.stdout.isTTY || !io.stdin.isTTY) {
    return runText(options, io.stdout);
  }
  return runScreen(options, io);
}

/**
 * `shmzone top` as the command line runs it: errors reported as the other commands report
 * them (`shmzone: message` on stderr, exit code from the CliError or 1).
 */
export async function topCommand(argv: string[], io: TopIo): Promise<number> {
  try {
    return await runTop(argv, io);
  } catch (err) {
    const e = err as { message?: unknown; exitCode?: unknown };
    io.stderr.write(`shmzone: ${typeof e.message === 'string' ? e.message : String(err)}\n`);
    return err instanceof CliError ? err.exitCode : ExitCode.FAILURE;
  }
}
