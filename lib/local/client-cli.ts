/**
 * `npm run client -- create NAME` makes another identity of the local issuer
 * (no rights until granted); `npm run client -- list` lists them. Works while
 * `npm start` runs: the issuer reads its clients file on every token request.
 * Settings: ARCA_DATA_DIR (default .data).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ClientRegistry } from './client-registry.ts';

const dataDir = resolve(process.env.ARCA_DATA_DIR ?? '.data');
const [command, ...rest] = process.argv.slice(2);
const registry = new ClientRegistry(join(dataDir, 'issuer', 'clients.json'));

if (!existsSync(join(dataDir, 'issuer'))) {
  console.error(`No local vault in ${dataDir}: run npm start once first.`);
  process.exit(1);
}
if (command === 'create' && rest[0]) {
  const created = await registry.create(rest.join(' '));
  console.log(JSON.stringify(created, null, 2));
  console.error(
    'Keep the clientSecret: it is shown once. The client has no rights until a role or policy grants them.',
  );
} else if (command === 'list') {
  for (const c of await registry.list()) console.log(`${c.clientId}  oid=${c.objectId}  ${c.displayName}`);
} else {
  console.error('usage: npm run client -- create NAME | list');
  process.exit(2);
}
