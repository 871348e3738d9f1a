// Where `npm start` gets its admin API key: HERALD_ADMIN_KEY when set, otherwise <HERALD_DATA_DIR>/admin-key (data/ by
// default, relative to where npm runs: the project folder), generated there on the first start.
// `npm run -s admin-key` prints the same key, so commands need not guess the file or the variable.
import fs from 'node:fs';
import path from 'node:path';
import { generateKey } from '../api/auth';

export interface AdminKey {
  key: string;
  /** Where it came from, for the start-up banner. */
  origin: string;
}

/** The key the stack uses, or null when neither HERALD_ADMIN_KEY nor the key file exists yet. */
export function readAdminKey(config: { adminKey?: string; dataDir: string }): AdminKey | null {
  if (config.adminKey) return { key: config.adminKey, origin: 'HERALD_ADMIN_KEY' };
  const file = path.join(path.resolve(config.dataDir), 'admin-key');
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), origin: file };
  return null;
}

/** readAdminKey, or a new key written to <dataDir>/admin-key (mode 0600). */
export function ensureAdminKey(config: { adminKey?: string; dataDir: string }): AdminKey {
  const found = readAdminKey(config);
  if (found) return found;
  const file = path.join(path.resolve(config.dataDir), 'admin-key');
  const key = generateKey();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, origin: `${file} (generated now)` };
}
