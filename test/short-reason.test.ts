// What is kept of a text from outside (lib/short-reason.ts): the one function every provider error and the outbox go through.
import { ProviderError } from '../activities/providers/push-provider';
import { errorReason, reasonCode, REASON_MAX_CHARS, shortReason } from '../lib/short-reason';

const SECRET = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';

test('drops markup with script and style bodies, control and format characters, and keeps one line', () => {
  expect(shortReason(`<html><head><style>p{}</style><script>send("${SECRET}")</script></head><body><h1>502 Bad Gateway</h1>\r\n<hr>nginx</body></html>`)).toBe('502 Bad Gateway nginx');
  expect(shortReason('refused\u0000\u001b[31m by\u202e relay\u200b\n\tnow')).toBe('refused [31m by relay now');
  expect(shortReason(`<script>${SECRET}`)).toBe('');
  expect(shortReason(`ok <img src=x onerror="${SECRET}"`)).toBe('ok');
});

test(`is at most ${REASON_MAX_CHARS} characters, however large the text`, () => {
  const huge = `${'Authorization: Bearer abc '.repeat(200_000)}`;
  const kept = shortReason(huge);
  expect(kept.length).toBe(REASON_MAX_CHARS);
  expect(kept.endsWith('…')).toBe(true);
  expect(shortReason('short')).toBe('short');
});

test('a reason code is a token', () => {
  expect(reasonCode('BadDeviceToken')).toBe('BadDeviceToken');
  expect(reasonCode('RECIPIENT_REJECTED:550')).toBe('RECIPIENT_REJECTED:550');
  expect(reasonCode('<b>Bad</b> token\n')).toBe('b_Bad_b_token');
  expect(reasonCode('x'.repeat(1000))).toHaveLength(64);
  expect(reasonCode('<>')).toBe('unknown');
});

test('a ProviderError keeps only the short reason, whatever a provider adapter hands it', () => {
  const error = new ProviderError('webpush', 'permanent', `<h1>${SECRET}</h1>`.repeat(100), `push service answered 400: <script>${SECRET}</script>${'<p>x</p>'.repeat(10_000)}`);
  expect(error.message.length).toBeLessThanOrEqual(REASON_MAX_CHARS);
  expect(error.message).not.toMatch(/<|script/);
  expect(error.message.startsWith('push service answered 400:')).toBe(true);
  expect(error.code.length).toBeLessThanOrEqual(64);
  expect(error.code).not.toMatch(/[<>/]/);
});

test("an error's reason follows its causes (what a gRPC error says is in its cause)", () => {
  const err = Object.assign(new Error('Failed to signalWithStart Workflow'), { cause: new Error('exceeded workflow execution limit for signal events') });
  expect(errorReason(err)).toBe('Failed to signalWithStart Workflow: exceeded workflow execution limit for signal events');
  expect(errorReason('plain')).toBe('plain');
});
