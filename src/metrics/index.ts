/** Metrics of zones and dicts: Prometheus text exposition and a prom-client bridge. */
export {
  zoneMetrics,
  zoneSample,
  dictMetrics,
  registryMetrics,
  type ZoneMetricsOptions,
} from './zone.js';
export { formatMetrics, METRICS_CONTENT_TYPE } from './exposition.js';
export { FAMILIES, type ZoneSample, type MetricFamily, type MetricValue } from './families.js';
export {
  registerPromClient,
  type PromClientOptions,
  type PromClientModule,
  type PromRegistry,
} from './prom-client.js';
