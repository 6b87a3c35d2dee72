/**
 * One contender x one workload in a fresh process: a warm-up pass, then 5 timed passes, each
 * on a fresh zone. Prints one JSON line. Usage: node child.js <contender> <W1|W2|W3|W4|W5> [--quick]
 */
import { CONTENDERS, makeContender, type ContenderName } from './contenders.js';
import { FULL, QUICK, w1, w2, w3, w4, w5, type PassTime, type WorkloadSize } from './workloads.js';

const MiB = 1024 * 1024;
/** The peer is O(live blocks) per free: run it on fewer steps (reported) to keep the run short. */
const PEER_FULL: WorkloadSize = { w1Rounds: 2, w2Steps: 2_500, w3Steps: 20_000, w5Steps: 5_000 };
const PEER_QUICK: WorkloadSize = { w1Rounds: 1, w2Steps: 500, w3Steps: 5_000, w5Steps: 1_000 };

export interface ChildReport {
  contender: ContenderName;
  workload: string;
  /** CPU ns per step of each timed pass (W4: utilisation, one pass). */
  runs: number[];
  /** Wall-clock ns per step of each timed pass. */
  wall?: number[];
  steps: number;
  detail?: unknown;
}

function main(): void {
  const [contender, workload, flag] = process.argv.slice(2) as [
    ContenderName,
    string,
    string | undefined,
  ];
  if (!CONTENDERS.includes(contender)) throw new Error(`unknown contender ${contender}`);
  const quick = flag === '--quick';
  const size =
    contender === 'thi.ng-malloc' ? (quick ? PEER_QUICK : PEER_FULL) : quick ? QUICK : FULL;
  const passes = quick ? 3 : 5;
  let report: ChildReport;
  if (workload === 'W4') {
    const r = w4(makeContender(contender, 16 * MiB), 16 * MiB);
    report = { contender, workload, runs: [r.ratio], steps: r.allocations, detail: r };
  } else {
    const pass = (): PassTime => {
      const a = makeContender(contender, 64 * MiB);
      if (workload === 'W1') return w1(a, size.w1Rounds);
      if (workload === 'W2') return w2(a, size.w2Steps);
      if (workload === 'W3') return w3(a, size.w3Steps);
      if (workload === 'W5') return w5(a, size.w5Steps);
      throw new Error(`unknown workload ${workload}`);
    };
    pass(); // warm-up
    const times: PassTime[] = [];
    for (let i = 0; i < passes; i++) times.push(pass());
    const steps =
      workload === 'W1'
        ? size.w1Rounds * 10_000
        : workload === 'W2'
          ? size.w2Steps
          : workload === 'W3'
            ? size.w3Steps
            : size.w5Steps;
    report = {
      contender,
      workload,
      runs: times.map((t) => t.cpu),
      wall: times.map((t) => t.wall),
      steps,
    };
  }
  process.stdout.write(JSON.stringify(report) + '\n');
}

main();
