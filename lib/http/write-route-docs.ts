/** `npm run docs`: rewrites the README's operation table from the route table. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withRouteTable } from './route-docs.ts';

const readme = join(import.meta.dirname, '..', '..', 'README.md');
writeFileSync(readme, withRouteTable(readFileSync(readme, 'utf8')));
