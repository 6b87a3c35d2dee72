/**
 * Turning what the user typed (`zone`, `ns.zone`, `zone --namespace ns`) into one segment.
 */
import { parseSegmentName, validateNamespace, validateZoneName } from '../zone/names.js';
import { listZoneSegments } from '../zone/inspect.js';
import { CliError, ExitCode } from './exit-codes.js';

/** One zone's identity. */
export interface ZoneRef {
  namespace: string;
  zone: string;
}

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
 * Finds the zone `arg` names. `ns.zone` and `--namespace` name it exactly; a bare zone name is
 * searched in every namespace. Throws CliError NOT_FOUND, AMBIGUOUS (naming the namespaces),
 * or USAGE for a malformed name or a namespace given twice differently.
 */
export function resolveZone(arg: string, namespace?: string): ZoneRef {
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
  const found = listZoneSegments(ns).filter((s) => s.zone === zone);
  if (found.length === 0) {
    const where = ns === undefined ? 'in any namespace' : `in namespace "${ns}"`;
    throw new CliError(ExitCode.NOT_FOUND, 'ERR_NOT_FOUND', `No zone "${zone}" ${where}`);
  }
  if (found.length > 1) {
    const spaces = found.map((s) => s.namespace).join(', ');
    throw new CliError(
      ExitCode.AMBIGUOUS,
      'ERR_AMBIGUOUS',
      `Zone "${zone}" exists in ${found.length} namespaces (${spaces}): ` +
        `give --namespace <ns> or write <ns>.${zone}`,
    );
  }
  return { namespace: found[0].namespace, zone };
}
