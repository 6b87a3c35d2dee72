/**
 * node:cluster integration: who is a primary or a worker, how the namespace travels from the
 * primary to its workers, and the primary's dead-worker recovery hook (nginx's timing: right
 * after the worker is reaped, docs/specs/reliability.md 1).
 */
import cluster from 'node:cluster';

/** Environment variable carrying the namespace from a primary to its workers. */
export const NAMESPACE_ENV = 'SHMZONE_NAMESPACE';

/** True in a process forked by `cluster.fork()` (including PM2 cluster-mode instances). */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/** The namespace a primary exported, if any. */
export function inheritedNamespace(): string | undefined {
  const value = process.env[NAMESPACE_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/** Exports `namespace` so that workers forked from now on inherit it. */
export function exportNamespace(namespace: string): void {
  process.env[NAMESPACE_ENV] = namespace;
}

/**
 * In a cluster primary, calls `onWorkerExit(pid)` each time a worker exits. Returns a function
 * that removes the listener. A no-op (returning a no-op) anywhere else.
 */
export function watchClusterWorkers(onWorkerExit: (pid: number) => void): () => void {
  if (!cluster.isPrimary) return () => {};
  const listener = (worker: { process: { pid?: number } }): void => {
    const pid = worker.process.pid;
    if (pid !== undefined) onWorkerExit(pid);
  };
  cluster.on('exit', listener);
  return () => {
    cluster.removeListener('exit', listener);
  };
}
