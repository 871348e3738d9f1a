// `npm run -s admin-key`: prints the admin API key `npm start` uses (HERALD_ADMIN_KEY, or <HERALD_DATA_DIR>/admin-key),
// e.g. KEY=$(npm run -s admin-key). Exits 1 with a reason when there is none yet (npm start creates it).
import path from 'node:path';
import { loadConfig } from '../lib/config';
import { readAdminKey } from '../dev/admin-key';

const config = loadConfig(process.env);
const found = readAdminKey(config);
if (!found) {
  process.stderr.write(`no admin key yet: HERALD_ADMIN_KEY is unset and ${path.join(path.resolve(config.dataDir), 'admin-key')} does not exist (npm start creates it)\n`);
  process.exit(1);
}
process.stdout.write(`${found.key}\n`);
