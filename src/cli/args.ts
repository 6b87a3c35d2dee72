/** Command-line parsing of `shmzone` (node:util parseArgs, strict). */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, ExitCode } from './exit-codes.js';

/** The parsed command line. */
export interface CliArgs {
  command: string;
  positionals: string[];
  namespace?: string;
  /** `--dir`: directories of file-backed zones (`backend: 'file'`), absolute. */
  dirs: string[];
  json: boolean;
  all: boolean;
  force: boolean;
  stale: boolean;
  help: boolean;
  version: boolean;
  timeoutMs: number;
}

/** Parses `argv` (without node and script). Throws CliError USAGE on anything malformed. */
export function parseCli(argv: string[]): CliArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new CliError(ExitCode.USAGE, 'ERR_USAGE', (err as Error).message);
  }
  const { values, positionals } = parsed;
  const timeout = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isSafeInteger(timeout) || timeout < 0) {
    throw new CliError(
      ExitCode.USAGE,
      'ERR_USAGE',
      `--timeout must be a whole number of ms, got ${values.timeout}`,
    );
  }
  const dirs = values.dir ?? [];
  for (const dir of dirs) {
    if (!path.isAbsolute(dir)) {
      throw new CliError(ExitCode.USAGE, 'ERR_USAGE', `--dir must be an absolute path, got ${dir}`);
    }
  }
  const [command = '', ...rest] = positionals;
  return {
    command,
    positionals: rest,
    namespace: values.namespace,
    dirs,
    json: values.json === true,
    all: values.all === true,
    force: values.force === true,
    stale: values.stale === true,
    help: values.help === true,
    version: values.version === true,
    timeoutMs: timeout,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      namespace: { type: 'string', short: 'n' },
      dir: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      force: { type: 'boolean' },
      stale: { type: 'boolean' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}
