/**
 * Namespaces a registry uses when none is given, chosen so that another local user cannot
 * predict them and squat the segment names ahead (`ERR_SEGMENT_OWNER` at every start).
 *
 * - Owner mode: `p<pid>-<10 random hex digits>`, fresh per primary; workers learn it from
 *   `SHMZONE_NAMESPACE`. The pid stays for people reading `shmzone ls`.
 * - Standalone mode (no primary to hand a name down): derived from the user and the entry
 *   script, `s-<script>-<10 hex digits of sha256(uid, script path)>`, so the instances of one
 *   app meet while two unrelated apps of the same user no longer share a dict by accident.
 *   It is visible in `shmzone ls`; a name someone else took fails with the squatter's uid
 *   (`ERR_SEGMENT_OWNER`). Pass `namespace` to choose it yourself.
 */
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { MAX_NAME_LENGTH } from './names.js';

/** A fresh, unpredictable owner-mode namespace. */
export function ownerNamespace(pid = process.pid): string {
  return `p${pid}-${randomBytes(5).toString('hex')}`;
}

/** The entry script's real path, or the working directory when there is none (a REPL). */
function entryPoint(): string {
  const script = process.argv[1];
  if (script === undefined || script === '') return process.cwd();
  try {
    return realpathSync(script);
  } catch {
    return script;
  }
}

/** The standalone-mode namespace of this user and entry script. */
export function standaloneNamespace(entry = entryPoint(), uid = currentUid()): string {
  const digest = createHash('sha256').update(`${uid}\0${entry}`).digest('hex').slice(0, 10);
  const readable = basename(entry, extname(entry)).replace(/[^A-Za-z0-9_-]/g, '_') || 'app';
  const room = MAX_NAME_LENGTH - 's--'.length - digest.length;
  return `s-${readable.slice(0, room)}-${digest}`;
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : 0;
}
