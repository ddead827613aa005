import { z } from 'zod';

/** PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{assignment}: RoleAssignmentCreateParameters. */
export const createRoleAssignmentSchema = z.object({
  properties: z.object({
    /** A built-in role's GUID, a path ending in it, or its name; checked by the use case. */
    roleDefinitionId: z.string().min(1).max(512),
    principalId: z.string().trim().min(1).max(128),
  }),
});

export type CreateRoleAssignmentInput = z.infer<typeof createRoleAssignmentSchema>['properties'];
