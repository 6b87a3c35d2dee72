/**
 * Where lock-file liveness keeps its files (liveness.ts, native/lockfile.cc): one per zone
 * incarnation, `<dir>/shmzone.<ns>.<zone>.<creator pid>.<created at>.peers`, in a directory
 * of this user only, `<os.tmpdir()>/shmzone-<uid>` (created 0700; refused unless a directory
 * of this uid that nobody else can enter: a squatter cannot plant the files). The files hold
 * no data, only byte-range locks. The last user of a removed zone removes its file; a zone
 * whose users all died leaves an empty file behind (harmless; named per incarnation, so a
 * new zone never meets an old one's locks).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SegmentError } from '../errors.js';
import { native } from '../native.js';

/** Where this user's lock files live (it may not exist yet). */
export function lockDirectoryPath(): string {
  return path.join(os.tmpdir(), `shmzone-${process.geteuid?.() ?? 0}`);
}

/** This user's lock-file directory, created if absent and checked. */
export function lockDirectory(): string {
  const uid = process.geteuid?.() ?? 0;
  const dir = lockDirectoryPath();
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new SegmentError(
      st.uid !== uid ? 'ERR_SEGMENT_OWNER' : 'ERR_SEGMENT_MODE',
      `${dir} must be a directory of uid ${uid} that only it can enter (uid ${st.uid}, ` +
        `mode 0${(st.mode & 0o777).toString(8)}); refusing to keep lock files there`,
      { path: dir },
    );
  }
  return dir;
}

/** The lock file of the zone `segment` created by `creatorPid` at `createdAt` (seconds). */
export function lockFilePath(segment: string, creatorPid: number, createdAt: number): string {
  return path.join(lockDirectory(), `${segment.slice(1)}.${creatorPid}.${createdAt}.peers`);
}

/**
 * The last user of a removed zone: its lock file goes (this process's descriptor of it
 * first, which no slot holds any more). Anything else (a live user elsewhere) keeps it.
 */
export function removeLockFile(file: string): void {
  if (!native.lockFileClose(file)) return;
  try {
    fs.unlinkSync(file);
  } catch {
    // gone already
  }
}
