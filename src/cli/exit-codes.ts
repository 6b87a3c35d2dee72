/**
 * Exit codes of the `shmzone` command (also listed by `shmzone --help` and in the README).
 *
 * | code | name      | meaning                                                                |
 * | ---- | --------- | ---------------------------------------------------------------------- |
 * | 0    | OK        | done; `verify` found no violation                                      |
 * | 1    | FAILURE   | `verify` found a violation, a segment is damaged or unreadable, or an OS call failed |
 * | 2    | USAGE     | unknown command or option, missing or malformed argument               |
 * | 3    | NOT_FOUND | no such zone (or no zone in the namespace)                             |
 * | 4    | IN_USE    | `rm` refused: live processes use the zone (`--force` overrides)        |
 * | 5    | AMBIGUOUS | the zone name exists in several namespaces: add `--namespace` or use `ns.zone` |
 */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  IN_USE: 4,
  AMBIGUOUS: 5,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with a given exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
