/**
 * Where the `shmzone` command finds zones, on every backend (docs/backends.md):
 * - POSIX shm names (`/dev/shm/shmzone.<ns>.<zone>`), as before;
 * - files named `shmzone.<ns>.<zone>` in every hugetlbfs mount of /proc/mounts (`hugePages`),
 *   and in the directories the caller names (`backend: 'file'`: those can be anywhere);
 * - SysV segments of this user in /proc/sysvipc/shm whose header names a zone whose key
 *   (sysvKey) is that segment's key. A SysV key does not spell its zone, so each candidate
 *   is mapped to read the names; a segment whose creator died before writing its header
 *   cannot be named and is not listed (`ipcs -m` shows it).
 * - memfd zones (`backend: 'memfd'`): descriptors in /proc/<pid>/fd whose link reads
 *   `/memfd:shmzone.<ns>.<zone> (deleted)`, in every process this user may look into; found
 *   while any process holds one (its primary, usually), opened through that link.
 * - POSIX zones with lock-file liveness, by their lock files (lock-files.ts): the only way
 *   on macOS, which cannot list POSIX shm; on Linux they are in /dev/shm anyway.
 * Finding never writes. test/cli/60.backends.test.ts, test/zone/94.memfd.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { native, type SegmentListing } from '../native.js';
import { hugetlbfsMounts } from './backend.js';
import { fileSource } from './file-source.js';
import { peekZoneName } from './header.js';
import { HEADER_SIZE } from './layout.js';
import { parseSegmentName, segmentName, SEGMENT_PREFIX } from './names.js';
import { posixShm, type SegmentSource } from './open.js';
import { listSegments, statSegment } from './segment.js';
import { lockDirectoryPath } from './lock-files.js';
import { memfdAt } from './memfd-source.js';
import { sysvKey, sysvShm } from './sysv-source.js';

/** One zone's segment, where it was found, and what its name or key showed. */
export interface FoundSegment {
  namespace: string;
  zone: string;
  source: SegmentSource;
  listing: SegmentListing;
}

/** Files `shmzone.*` of `directory` (not followed), as listings; none when it cannot be read. */
function listDirectory(directory: string, prefix: string): SegmentListing[] {
  let names: string[];
  try {
    names = fs.readdirSync(directory);
  } catch {
    return [];
  }
  const out: SegmentListing[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(path.join(directory, name));
    } catch {
      continue; // removed while listing
    }
    out.push({
      name,
      size: st.size,
      uid: st.uid,
      mode: st.mode & 0o777,
      mtimeMs: st.mtimeMs,
      type: st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other',
    });
  }
  return out;
}

/** This user's SysV segments whose header names the zone their key belongs to. */
function listSysv(namespace: string | undefined): FoundSegment[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/sysvipc/shm', 'utf8');
  } catch {
    return []; // no SysV IPC here (not Linux, or not mounted)
  }
  const uid = process.geteuid?.();
  const out: FoundSegment[] = [];
  for (const line of text.split('\n').slice(1)) {
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime ...
    const f = line.trim().split(/\s+/);
    if (f.length < 14 || Number(f[7]) !== uid) continue;
    const key = Number(f[0]);
    if (!(key > 0)) continue;
    let names: { namespace: string; zone: string } | undefined;
    try {
      names = peekZoneName(native.openSysvSegment(key, 0o777, HEADER_SIZE).buffer);
    } catch {
      continue; // gone, or not one we may map
    }
    if (names === undefined || (namespace !== undefined && names.namespace !== namespace)) continue;
    if (sysvKey(segmentName(names.namespace, names.zone)) !== key) continue; // not its key
    out.push({
      ...names,
      source: sysvShm,
      listing: {
        name: segmentName(names.namespace, names.zone).slice(1),
        size: Number(f[3]),
        uid: Number(f[7]),
        mode: parseInt(f[2], 8) & 0o777, // printed in octal
        mtimeMs: Number(f[13]) * 1000,
        type: 'file',
      },
    });
  }
  return out;
}

/** memfd zones held open by a process of this user, one per zone (the first holder found). */
function listMemfd(prefix: string): Array<{ source: SegmentSource; listing: SegmentListing }> {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return []; // no /proc: no memfd zones to find
  }
  const seen = new Set<string>();
  const out: Array<{ source: SegmentSource; listing: SegmentListing }> = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // another user's process, or gone
    }
    for (const fd of fds) {
      const link = `/proc/${pid}/fd/${fd}`;
      let target: string;
      try {
        target = fs.readlinkSync(link);
      } catch {
        continue;
      }
      const m = /^\/memfd:(.+) \(deleted\)$/.exec(target);
      if (m === null || !m[1].startsWith(prefix) || seen.has(m[1])) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(link);
      } catch {
        continue;
      }
      seen.add(m[1]);
      out.push({
        source: memfdAt(link),
        listing: {
          name: m[1],
          size: st.size,
          uid: st.uid,
          mode: st.mode & 0o777,
          mtimeMs: st.mtimeMs,
          type: 'file',
        },
      });
    }
  }
  return out;
}

/**
 * POSIX zones named by the lock files in this user's lock-file directory (zones with
 * `liveness: 'lockfile'`, the macOS default), that still exist under their segment name.
 */
export function lockFileZones(prefix: string): SegmentListing[] {
  let names: string[];
  try {
    names = fs.readdirSync(lockDirectoryPath()); // only names: each is opened with every check
  } catch {
    return [];
  }
  const seen = new Set<string>();
  const out: SegmentListing[] = [];
  for (const file of names) {
    // shmzone.<ns>.<zone>.<creator pid>.<created at>.peers
    const m = /^(shmzone\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\.\d+\.\d+\.peers$/.exec(file);
    if (m === null || !m[1].startsWith(prefix) || seen.has(m[1])) continue;
    seen.add(m[1]);
    try {
      const st = statSegment(`/${m[1]}`);
      out.push({ name: m[1], ...st, mtimeMs: 0, type: 'file' });
    } catch {
      // its zone is gone: a lock file left by processes that all died
    }
  }
  return out;
}

/**
 * Every zone segment of this library (optionally of one namespace) on every backend, sorted
 * by namespace, zone and backend. `directories`: where file-backed zones live.
 */
export function findSegments(namespace?: string, directories: string[] = []): FoundSegment[] {
  const prefix = namespace === undefined ? SEGMENT_PREFIX : `${SEGMENT_PREFIX}${namespace}.`;
  const posix = listSegments(prefix);
  const listed = new Set(posix.map((l) => l.name));
  const places: Array<{ source: SegmentSource; listings: SegmentListing[] }> = [
    { source: posixShm, listings: posix },
    { source: posixShm, listings: lockFileZones(prefix).filter((l) => !listed.has(l.name)) },
  ];
  const huge = hugetlbfsMounts();
  for (const dir of huge) {
    places.push({ source: fileSource(dir, false), listings: listDirectory(dir, prefix) });
  }
  for (const dir of new Set(directories.map((d) => path.resolve(d)))) {
    if (huge.includes(dir)) continue; // listed above, as the huge-page zones they are
    places.push({ source: fileSource(dir, true), listings: listDirectory(dir, prefix) });
  }
  for (const { source, listing } of listMemfd(prefix)) places.push({ source, listings: [listing] });
  const out: FoundSegment[] = [];
  for (const { source, listings } of places) {
    for (const listing of listings) {
      const parts = parseSegmentName(listing.name);
      if (parts === undefined) continue;
      if (namespace !== undefined && parts.namespace !== namespace) continue;
      out.push({ ...parts, source, listing });
    }
  }
  out.push(...listSysv(namespace));
  out.sort(
    (a, b) =>
      a.namespace.localeCompare(b.namespace) ||
      a.zone.localeCompare(b.zone) ||
      a.source.kind.localeCompare(b.source.kind),
  );
  return out;
}
