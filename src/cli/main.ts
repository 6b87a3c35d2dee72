#!/usr/bin/env node
/**
 * `shmzone`: inspect and manage shared memory zones. See help.ts for usage, exit-codes.ts for
 * exit codes. `runCli` is the whole program minus process I/O, for tests and embedding.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CliError, ExitCode } from './exit-codes.js';
import { parseCli, type CliArgs } from './args.js';
import { COMMANDS, type Output } from './commands.js';
import { HELP } from './help.js';
import { topCommand } from './top/top.js';

function version(): string {
  const pkg = new URL('../../../package.json', import.meta.url);
  try {
    return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function report(io: Output, json: boolean, code: string, message: string): void {
  if (json) io.out(JSON.stringify({ error: { code, message } }, null, 2));
  else io.err(`shmzone: ${message}`);
}

/** Runs the command line `argv` (without node and script); returns the exit code. */
export function runCli(argv: string[], io: Output): number {
  let args: CliArgs;
  const wantsJson = argv.includes('--json');
  try {
    args = parseCli(argv);
  } catch (err) {
    const e = err as CliError;
    report(io, wantsJson, e.code, `${e.message}\nRun "shmzone --help" for usage.`);
    return ExitCode.USAGE;
  }
  if (args.version) {
    io.out(version());
    return ExitCode.OK;
  }
  if (args.help || args.command === 'help' || args.command === '') {
    if (args.command === '' && !args.help) {
      io.err(HELP);
      return ExitCode.USAGE;
    }
    io.out(HELP.trimEnd());
    return ExitCode.OK;
  }
  const command = COMMANDS[args.command];
  if (command === undefined) {
    report(
      io,
      args.json,
      'ERR_USAGE',
      `unknown command "${args.command}"\nRun "shmzone --help" for usage.`,
    );
    return ExitCode.USAGE;
  }
  try {
    return command(args, io);
  } catch (err) {
    if (err instanceof CliError) {
      report(io, args.json, err.code, err.message);
      return err.exitCode;
    }
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : 'ERR_UNKNOWN';
    report(io, args.json, code, typeof e.message === 'string' ? e.message : String(err));
    return ExitCode.FAILURE;
  }
}

function invokedDirectly(): boolean {
  // Through the npm bin link argv[1] is a symlink: compare real paths.
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const isMain = invokedDirectly();
if (isMain) {
  const io: Output = {
    out: (text) => void process.stdout.write(text + '\n'),
    err: (text) => void process.stderr.write(text + '\n'),
  };
  const argv = process.argv.slice(2);
  // `top` runs until the user quits, so it is not one of the synchronous COMMANDS.
  if (argv[0] === 'top' && !argv.includes('--help') && !argv.includes('-h')) {
    void topCommand(argv.slice(1), process).then((code) => (process.exitCode = code));
  } else {
    process.exitCode = runCli(argv, io);
  }
}
