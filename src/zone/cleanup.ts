/**
 * Process-exit clean-up: the process that created segments removes them however it ends.
 *
 * - normal exit: `process.on('exit')` (synchronous; every clean-up step is synchronous);
 * - `SIGINT`, `SIGTERM`, `SIGHUP`: clean up, then, when no one else listens for that signal,
 *   remove our listener and re-raise it, so the process dies of the signal exactly as it would
 *   have without us (the shell sees 128 + signal number);
 * - uncaught exception or unhandled rejection: `uncaughtExceptionMonitor`, only when nobody
 *   handles `uncaughtException` (i.e. the process is about to die).
 *
 * SIGKILL cannot be caught: the other users of those segments remove them when the last of
 * them leaves ("last-out" in `leaveZone`; a SIGKILLed cluster primary's workers exit on their
 * own); with no other user left, the next start in the same namespace (dead creator) or
 * `shmzone rm --stale` does. Handlers are installed once per thread,
 * on first use; signal handlers only in the main thread (workers receive no signals).
 */
import { isMainThread } from 'node:worker_threads';

type Cleanup = () => void;

const cleanups = new Set<Cleanup>();
let installed = false;
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function runCleanups(): void {
  const all = [...cleanups];
  cleanups.clear();
  // Newest first: a registry started later may depend on nothing older, the reverse may hold.
  for (const fn of all.reverse()) {
    try {
      fn();
    } catch {
      // Exiting anyway: one failed clean-up must not prevent the others.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function onFatal(_err: unknown, _origin: string): void {
  if (process.listenerCount('uncaughtException') === 0) runCleanups();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runCleanups);
  process.on('uncaughtExceptionMonitor', onFatal);
  if (isMainThread) for (const signal of SIGNALS) process.on(signal, onSignal);
}

/**
 * Runs `fn` once when the process (or, in a worker, the thread) ends. Returns a function that
 * unregisters it (call it after cleaning up by hand, e.g. in `registry.stop()`).
 */
export function onExit(fn: Cleanup): () => void {
  install();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}
