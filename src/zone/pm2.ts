/**
 * PM2 detection. PM2 runs each instance of an app with `pm_id`, `name` (the app name),
 * `NODE_APP_INSTANCE` and `exec_mode` in its environment; in cluster mode PM2's daemon is the
 * node:cluster primary, so an instance looks like a cluster worker whose primary is not ours.
 * `auto` mode there would give every instance a private owner namespace (counters that never
 * add up), so a registry in `auto` mode under PM2 runs `standalone` in a namespace derived
 * from the app name: every instance of one app shares its zones, two apps do not.
 *
 * Rolling reloads (`pm2 reload` starts new instances before stopping old ones): the namespace
 * also carries a fingerprint of every zone's name, size and tag, so a reload that changes a
 * declaration starts the new generation in new zones while the old instances finish on the
 * old ones, which the last of them removes (nginx's rule for a reload that resizes a zone).
 * Without it the new instances would meet the old zone and fail with ERR_ZONE_MISMATCH.
 * Guarded by test/zone/80.pm2.test.ts.
 */
import { createHash } from 'node:crypto';
import { MAX_NAME_LENGTH } from './names.js';

/** What PM2's environment says about this process. */
export interface Pm2Instance {
  /** The app name (`name`). */
  readonly app: string;
  /** `pm_id`: PM2's process id of this instance. */
  readonly id: string;
  /** `exec_mode`: `cluster_mode` or `fork_mode`. */
  readonly execMode: string;
}

/** The PM2 instance this process is, or undefined when PM2 did not start it. */
export function detectPm2(env: NodeJS.ProcessEnv = process.env): Pm2Instance | undefined {
  const id = env.pm_id;
  const app = env.name;
  if (id === undefined || id === '' || app === undefined || app === '') return undefined;
  if (env.exec_mode === undefined && env.NODE_APP_INSTANCE === undefined) return undefined;
  return { app, id, execMode: env.exec_mode ?? 'fork_mode' };
}

/** The declaration a generation is fingerprinted by. */
export interface ZoneDeclarationKey {
  readonly name: string;
  readonly size: number;
  readonly tag: string;
}

/**
 * `pm2-<app>-<fingerprint>`: characters of the app name outside `[A-Za-z0-9_-]` become `_`
 * (the fingerprint also hashes the original name, so `my.app` and `my app` stay apart); the
 * fingerprint is 8 hex digits of SHA-256 over the uid (another user's app with the same name
 * does not meet ours), the app name and every zone's name, size, tag.
 */
export function pm2Namespace(app: string, zones: Iterable<ZoneDeclarationKey>): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const hash = createHash('sha256').update(`${uid}\0${app}`);
  const keys = [...zones].map((z) => JSON.stringify([z.name, z.size, z.tag])).sort();
  for (const key of keys) hash.update('\0').update(key);
  const fingerprint = hash.digest('hex').slice(0, 8);
  const clean = `pm2-${app.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return `${clean.slice(0, MAX_NAME_LENGTH - 9)}-${fingerprint}`;
}
