// Running schemathesis (installed by `npm run tools` into .tools/schemathesis) against a stack, for the contract
// test files: test/contract.test.ts (the admin key's fuzz run) and test/contract-customer-token.test.ts.
import { spawn } from 'node:child_process';
import { schemathesisCommand } from '../../dev/tools';

/** What a customer token may call (api/route.ts `customer`). */
export const CUSTOMER_TOKEN_OPERATIONS = [
  'deleteDevice', 'getPreferences', 'listDevices', 'listInbox', 'postDevice', 'postNotificationEvent', 'putPreferences', 'readAllInbox', 'readInboxMessage', 'streamInbox',
];

/** Runs schemathesis to its end (or a kill after `timeoutMs`), with its output. */
export function schemathesis(fuzzArgs: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const { command, env: toolEnv } = schemathesisCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(command, fuzzArgs, { cwd, env: { ...process.env, ...toolEnv, SCHEMATHESIS_TELEMETRY: 'false', ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output });
    });
  });
}

/** The summary at the end of its output. */
export const summaryOf = (output: string) => output.slice(output.lastIndexOf('\n', output.lastIndexOf(' SUMMARY ')) + 1);
