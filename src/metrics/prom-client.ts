/**
 * Bridge to prom-client, for applications that already expose a prom-client registry.
 * prom-client is not a dependency of shmzone: it is imported (dynamically) only when
 * {@link registerPromClient} is called, from the application's own installation.
 *
 * Each family of `families.ts` becomes one prom-client Gauge or Counter whose `collect()`
 * reads every registered zone at scrape time. Calling it again with the same registry adds
 * the zone to the same collectors (prom-client refuses two metrics of one name).
 */
import { ShmzoneError } from '../errors.js';
import type { SharedDict } from '../dict/dict.js';
import type { Zone } from '../zone/zone.js';
import { FAMILIES, type Labels, type ZoneSample } from './families.js';
import { zoneSample } from './zone.js';

/** The parts of a prom-client metric the bridge uses. */
interface PromMetric {
  reset(): void;
  set?(labels: Labels, value: number): void;
  inc(labels: Labels, value?: number): void;
}

interface PromMetricConfig {
  name: string;
  help: string;
  labelNames: string[];
  registers: unknown[];
  collect(this: PromMetric): void;
}

/** The parts of the prom-client module the bridge uses (pass it as `client` to skip the import). */
export interface PromClientModule {
  Gauge: new (config: PromMetricConfig) => unknown;
  Counter: new (config: PromMetricConfig) => unknown;
}

/** A prom-client `Registry` (e.g. `client.register`). */
export interface PromRegistry {
  removeSingleMetric(name: string): void;
}

/** Options of {@link registerPromClient}. */
export interface PromClientOptions {
  /** The zone's SharedDict, for the `shmzone_dict_*` families. */
  dict?: SharedDict;
  /** The prom-client module to use; default `await import('prom-client')`. */
  client?: PromClientModule;
}

interface Bridge {
  sources: Map<Zone, () => ZoneSample>;
}

const bridges = new WeakMap<PromRegistry, Bridge>();

async function loadClient(): Promise<PromClientModule> {
  try {
    // A variable specifier keeps bundlers and tsc from treating prom-client as a dependency.
    const name = 'prom-client';
    const mod = (await import(name)) as PromClientModule & { default?: PromClientModule };
    return mod.Gauge !== undefined ? mod : (mod.default as PromClientModule);
  } catch (err) {
    throw new ShmzoneError(
      'ERR_PROM_CLIENT_MISSING',
      'registerPromClient() needs the prom-client package: npm install prom-client',
      { cause: err },
    );
  }
}

function install(client: PromClientModule, register: PromRegistry, bridge: Bridge): void {
  for (const family of FAMILIES) {
    const Metric = family.type === 'gauge' ? client.Gauge : client.Counter;
    new Metric({
      name: family.name,
      help: family.help,
      labelNames: ['namespace', 'zone', ...family.extraLabels],
      registers: [register],
      collect(this: PromMetric) {
        // Values are absolute snapshots of shared counters: start from zero at every scrape.
        this.reset();
        for (const read of bridge.sources.values()) {
          let sample: ZoneSample;
          try {
            sample = read();
          } catch {
            continue; // a zone closed since registration: skip it
          }
          for (const v of family.values(sample)) {
            if (this.set !== undefined) this.set(v.labels, v.value);
            else this.inc(v.labels, v.value);
          }
        }
      },
    });
  }
}

/**
 * Registers `zone`'s metrics (and `opts.dict`'s) with a prom-client registry; they are read
 * at every scrape. Returns a function that removes this zone again (and the collectors when
 * it was the last one). Throws ShmzoneError `ERR_PROM_CLIENT_MISSING` when prom-client is not
 * installed, and prom-client's own error when another metric already uses one of the names.
 */
export async function registerPromClient(
  register: PromRegistry,
  zone: Zone,
  opts: PromClientOptions = {},
): Promise<() => void> {
  let bridge = bridges.get(register);
  if (bridge === undefined) {
    const client = opts.client ?? (await loadClient());
    bridge = { sources: new Map() };
    install(client, register, bridge);
    bridges.set(register, bridge);
  }
  const dict = opts.dict;
  const b = bridge;
  b.sources.set(zone, () => zoneSample(zone, { dict }));
  return () => {
    b.sources.delete(zone);
    if (b.sources.size === 0 && bridges.get(register) === b) {
      bridges.delete(register);
      for (const family of FAMILIES) register.removeSingleMetric(family.name);
    }
  };
}
