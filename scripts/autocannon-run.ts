/**
 * Runs autocannon once against one address and prints its result as JSON, with latencies to the
 * microsecond. scripts/benchmark-list.ts starts it in a child process, so the load generator
 * does not share the server's event loop:
 *   node --import tsx scripts/autocannon-run.ts <url> <seconds> <connections> <cookie>
 *
 * autocannon's own percentiles come from a histogram of whole milliseconds. A page that takes
 * 7.9 ms is counted as 7, so two pages of 7 and 10 ms can differ by anything from 1.1 to 1.6
 * times. This script keeps the time of every response instead, which autocannon measures
 * with process.hrtime, and reports percentiles of those.
 */
import { createRequire } from 'node:module';

/** Part of autocannon 8's programmatic interface that this script uses. The package ships no types. */
interface AutocannonInstance extends PromiseLike<{ requests: { average: number; total: number }; non2xx: number; errors: number; timeouts: number }> {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTime: number) => void): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  duration: number;
  connections: number;
  headers: Record<string, string>;
}) => AutocannonInstance;

const [url, seconds, connections, cookie] = process.argv.slice(2);
if (!url || !seconds || !connections || cookie === undefined) {
  console.error('Usage: node --import tsx scripts/autocannon-run.ts <url> <seconds> <connections> <cookie>');
  process.exit(2);
}

/** Returns the value below which the given share of the sorted values fall (nearest rank). */
function percentile(sorted: number[], share: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted[Math.max(0, Math.ceil(share * sorted.length) - 1)]!;
}

const latencies: number[] = [];
const instance = autocannon({ url, duration: Number(seconds), connections: Number(connections), headers: { cookie } });
instance.on('response', (_client, statusCode, _bytes, responseTime) => {
  // autocannon's own latency figures also count only the 2xx responses.
  if (statusCode >= 200 && statusCode < 300) {
    latencies.push(responseTime);
  }
});
const result = await instance;
latencies.sort((left, right) => left - right);
const round = (milliseconds: number) => Math.round(milliseconds * 1000) / 1000;

console.log(
  JSON.stringify({
    latency: {
      p50: round(percentile(latencies, 0.5)),
      p97_5: round(percentile(latencies, 0.975)),
      p99: round(percentile(latencies, 0.99)),
      mean: round(latencies.reduce((sum, value) => sum + value, 0) / latencies.length),
      samples: latencies.length,
    },
    requests: { average: result.requests.average, total: result.requests.total },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }),
);
