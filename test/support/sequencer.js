// Orders the test files for the jest workers: the long ones first, so the run does not end with one worker busy on a
// long file the other finished waiting for. Jest orders by the durations of the previous run when its cache has them,
// but CI runs on a clean clone with no cache, where jest falls back to file size, and a long file can be small (the
// bursts, the timing file). Files named here go first, in this order; the rest follow in jest's own order.
const Sequencer = require('@jest/test-sequencer').default;

const LONG_FIRST = [
  'contract',
  'contract-customer-token',
  'production-server',
  'timing',
  'burst',
  'kafka-burst',
  'temporal-kill',
  'kafka',
  'e2e',
  'order-workflow',
  'restart',
  'shopify-kafka',
];

const rank = (test) => {
  const name = test.path.replace(/^.*[\\/]/, '').replace(/\.test\.ts$/, '');
  const at = LONG_FIRST.indexOf(name);
  return at === -1 ? LONG_FIRST.length : at;
};

class LongFirstSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    return [...ordered].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = LongFirstSequencer;
