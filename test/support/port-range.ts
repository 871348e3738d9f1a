// Jest setupFiles: the ports this test file's stacks and servers draw (dev/embedded.ts's freePort) come from a
// range of its jest worker's own, so that files running at the same time (maxWorkers) never both find one port
// free before either binds it. The worker and API processes a stack starts inherit it.
import { FREE_PORTS } from '../../lib/free-port';

/** As many ranges as jest workers may run at once; beyond that, worker ids share ranges again. */
const RANGES = 4;

const worker = Number(process.env.JEST_WORKER_ID ?? '1');
const width = Math.floor((FREE_PORTS[1] - FREE_PORTS[0] + 1) / RANGES);
const low = FREE_PORTS[0] + ((worker - 1) % RANGES) * width;
process.env.HERALD_FREE_PORT_RANGE = `${low}-${low + width - 1}`;
