/** Access-policy permission names, with Azure's spelling, per object kind. */
export const POLICY_PERMISSIONS = {
  secrets: ['get', 'list', 'set', 'delete', 'recover', 'backup', 'restore', 'purge'],
  keys: [
    'get',
    'list',
    'update',
    'create',
    'import',
    'delete',
    'recover',
    'backup',
    'restore',
    'decrypt',
    'encrypt',
    'unwrapKey',
    'wrapKey',
    'verify',
    'sign',
    'purge',
    'release',
    'rotate',
    'getrotationpolicy',
    'setrotationpolicy',
  ],
  certificates: [
    'get',
    'list',
    'update',
    'create',
    'import',
    'delete',
    'recover',
    'backup',
    'restore',
    'managecontacts',
    'manageissuers',
    'getissuers',
    'listissuers',
    'setissuers',
    'deleteissuers',
    'purge',
  ],
  storage: [
    'get',
    'list',
    'delete',
    'set',
    'update',
    'regeneratekey',
    'recover',
    'purge',
    'backup',
    'restore',
    'setsas',
    'listsas',
    'getsas',
    'deletesas',
  ],
} as const;

export type PolicyKind = keyof typeof POLICY_PERMISSIONS;

/** `all` grants every permission of its kind, as in Azure's policies. */
export function policyAllows(granted: readonly string[] | undefined, permission: string): boolean {
  if (!granted) return false;
  const wanted = permission.toLowerCase();
  return granted.some((p) => p.toLowerCase() === wanted || p.toLowerCase() === 'all');
}
