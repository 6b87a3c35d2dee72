/**
 * Turning what the user typed (`zone`, `ns.zone`, `zone --namespace ns`) into one segment.
 */
import { parseSegmentName, validateNamespace, validateZoneName } from '../zone/names.js';
import { findSegments, type FoundSegment } from '../zone/discover.js';
import { CliError, ExitCode } from './exit-codes.js';

function checked<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError(ExitCode.USAGE, 'ERR_USAGE', (err as Error).message);
  }
}

/** Validates a namespace given on the command line (CliError USAGE when malformed). */
export function checkNamespace(namespace: string): string {
  return checked(() => validateNamespace(namespace));
}

/**
 * Finds the zone `arg` names, on every backend (`dirs`: where file-backed zones live).
 * `ns.zone` and `--namespace` name it exactly; a bare zone name is searched in every
 * namespace. Throws CliError NOT_FOUND, AMBIGUOUS (naming the namespaces, or the backends
 * when one zone name exists on several), or USAGE for a malformed name or a namespace given
 * twice differently.
 */
export function resolveZone(arg: string, namespace?: string, dirs: string[] = []): FoundSegment {
  let ns = namespace === undefined ? undefined : checkNamespace(namespace);
  let zone = arg;
  if (arg.includes('.')) {
    const parts = parseSegmentName(`shmzone.${arg}`);
    if (parts === undefined) {
      throw new CliError(
        ExitCode.USAGE,
        'ERR_USAGE',
        `"${arg}" is not a zone name: use "zone" or "namespace.zone" ([A-Za-z0-9_-], at most 64 each)`,
      );
    }
    if (ns !== undefined && ns !== parts.namespace) {
      throw new CliError(
        ExitCode.USAGE,
        'ERR_USAGE',
        `"${arg}" names namespace "${parts.namespace}" but --namespace says "${ns}"`,
      );
    }
    ns = parts.namespace;
    zone = parts.zone;
  }
  checked(() => validateZoneName(zone));
  const found = findSegments(ns, dirs).filter((s) => s.zone === zone);
  if (found.length === 0) {
    const where = ns === undefined ? 'in any namespace' : `in namespace "${ns}"`;
    throw new CliError(ExitCode.NOT_FOUND, 'ERR_NOT_FOUND', `No zone "${zone}" ${where}`);
  }
  if (found.length > 1) {
    const spaces = new Set(found.map((s) => s.namespace));
    throw new CliError(
      ExitCode.AMBIGUOUS,
      'ERR_AMBIGUOUS',
      spaces.size > 1
        ? `Zone "${zone}" exists in ${spaces.size} namespaces (${[...spaces].join(', ')}): ` +
            `give --namespace <ns> or write <ns>.${zone}`
        : `Zone "${found[0].namespace}.${zone}" exists on ${found.length} backends ` +
            `(${found.map((s) => s.source.kind).join(', ')}): remove the one not in use`,
    );
  }
  return found[0];
}
