/**
 * Test-only crash points (SQLite-style crash tests, docs/specs/reliability.md "Deterministic crash
 * points"). When the process starts with `SHMZONE_CRASH_AT=k` (k >= 1), the journal's write
 * path calls `crashTick` after every journaled store, and once a test has called
 * `armCrash()` the process SIGKILLs itself right after the k-th journaled store.
 *
 * With `SHMZONE_CRASH_NOJOURNAL=1` the journal count is zeroed just before the kill: the
 * survivor finds nothing to undo, exactly as if those k stores had not been journaled. This
 * proves the journal is what makes recovery work (some k must then fail verify()).
 *
 * Cost when the variable is unset: `CRASH_HOOK` is false (copied into PoolState.crashHook), so the
 * call site in journal.ts is one never-taken branch.
 */
import type { PoolState } from './state.js';

const AT = Number(process.env.SHMZONE_CRASH_AT ?? '0');

/** True only in a test process started with SHMZONE_CRASH_AT set to a positive integer. */
export const CRASH_HOOK: boolean = Number.isInteger(AT) && AT > 0;

const NO_JOURNAL = process.env.SHMZONE_CRASH_NOJOURNAL === '1';
let armed = false;
let count = 0;

/** Starts counting journaled stores from now (setup before this point is not counted). */
export function armCrash(): void {
  armed = true;
  count = 0;
}

/** Stops counting: stores after the operation under test (exit handlers) are no crash points. */
export function disarmCrash(): void {
  armed = false;
}

/** Journaled stores counted since `armCrash()`. */
export function crashCount(): number {
  return count;
}

/** Called by the journal after each journaled store when CRASH_HOOK is on. */
export function crashTick(s: PoolState): void {
  if (!armed) return;
  count++;
  if (count !== AT) return;
  if (NO_JOURNAL) s.u32[s.journalCountWord] = 0;
  process.kill(process.pid, 'SIGKILL');
}
