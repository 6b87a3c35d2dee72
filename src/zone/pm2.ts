/**
 * PM2 detection. PM2 runs each instance of an app with `pm_id`, `name` (the app name),
 * `NODE_APP_INSTANCE` and `exec_mode` in its environment; in cluster mode PM2's daemon is the
 * node:cluster primary, so an instance looks like a cluster worker whose primary is not ours.
 * `auto` mode there would give every instance a private owner namespace (counters that never
 * add up), so a registry in `auto` mode under PM2 runs `standalone` in a namespace derived
 * from the app name: every instance of one app shares its zones, two apps do not.
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

/**
 * `pm2-<app>`, characters outside `[A-Za-z0-9_-]` replaced by `_`; when anything was replaced
 * or cut, 8 hex digits of the name's SHA-256 are appended so that two apps whose names differ
 * only there do not share zones.
 */
export function pm2Namespace(app: string): string {
  const clean = `pm2-${app.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (clean === `pm2-${app}` && clean.length <= MAX_NAME_LENGTH) return clean;
  const hash = createHash('sha256').update(app).digest('hex').slice(0, 8);
  return `${clean.slice(0, MAX_NAME_LENGTH - 9)}-${hash}`;
}
