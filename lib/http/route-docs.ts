import { routes } from './routes.ts';

export const ROUTES_START = '<!-- routes:start (generated from lib/http/routes.ts by `npm run docs`) -->';
export const ROUTES_END = '<!-- routes:end -->';

/** The README's operation table, generated from the one route table. */
export function renderRouteTable(): string {
  const rows = routes.map(
    (r) =>
      `| ${r.operationId} | \`${r.method} ${r.path}\` | ${r.permission} | ${r.auditOperation} | ${r.summary} |`,
  );
  return [
    ROUTES_START,
    '| operation | route | permission | audit name | what it does |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    ROUTES_END,
  ].join('\n');
}

/** Replaces the generated block in a document. */
export function withRouteTable(document: string): string {
  const start = document.indexOf(ROUTES_START);
  const end = document.indexOf(ROUTES_END);
  if (start < 0 || end < start) throw new Error('the document has no routes block');
  return document.slice(0, start) + renderRouteTable() + document.slice(end + ROUTES_END.length);
}
