import { z } from 'zod';
import { MAX_ACCESS_POLICIES } from './model.ts';
import { POLICY_PERMISSIONS } from './permissions.ts';

const permissionList = (kind: keyof typeof POLICY_PERMISSIONS) =>
  z
    .array(z.string())
    .max(64)
    .refine(
      (list) =>
        list.every(
          (p) =>
            p.toLowerCase() === 'all' ||
            POLICY_PERMISSIONS[kind].some((k) => k.toLowerCase() === p.toLowerCase()),
        ),
      {
        message: `contains a permission that is not one of ${kind}: ${POLICY_PERMISSIONS[kind].join(', ')}, all`,
      },
    );

export const accessPolicySchema = z.object({
  tenantId: z.string().min(1).max(64),
  objectId: z.string().min(1).max(128),
  applicationId: z.string().min(1).max(128).nullish(),
  permissions: z.object({
    keys: permissionList('keys').optional(),
    secrets: permissionList('secrets').optional(),
    certificates: permissionList('certificates').optional(),
    storage: permissionList('storage').optional(),
  }),
});

const properties = z.object({
  tenantId: z.string().min(1).max(64).optional(),
  sku: z.object({ family: z.string().optional(), name: z.enum(['standard', 'premium']) }).optional(),
  accessPolicies: z.array(accessPolicySchema).max(MAX_ACCESS_POLICIES).optional(),
  enableRbacAuthorization: z.boolean().optional(),
  enableSoftDelete: z.literal(true).optional(),
  softDeleteRetentionInDays: z.number().int().min(7).max(90).optional(),
  enablePurgeProtection: z.boolean().nullish(),
  createMode: z.enum(['default', 'recover']).optional(),
});

const tags = z
  .record(z.string().min(1).max(512), z.string().max(256))
  .refine((t) => Object.keys(t).length <= 50, {
    message: 'at most 50 tags are allowed',
  });

/** PUT /vaults/{vault}: Azure's VaultCreateOrUpdateParameters. */
export const vaultPutSchema = z.object({
  location: z.string().max(64).optional(),
  tags: tags.optional(),
  properties: properties.optional(),
});

/** PATCH /vaults/{vault}: Azure's VaultPatchParameters. */
export const vaultPatchSchema = vaultPutSchema;

/** PUT /vaults/{vault}/accessPolicies/{operationKind}. */
export const accessPolicyUpdateSchema = z.object({
  properties: z.object({ accessPolicies: z.array(accessPolicySchema).min(1).max(MAX_ACCESS_POLICIES) }),
});

export type VaultPut = z.infer<typeof vaultPutSchema>;
export type AccessPolicyInput = z.infer<typeof accessPolicySchema>;
