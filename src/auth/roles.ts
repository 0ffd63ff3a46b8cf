// Roles, highest first. One policy module (./policies.ts) decides who may do what.
export const ROLES = ['owner', 'admin', 'manager', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

const rank: Record<Role, number> = { owner: 5, admin: 4, manager: 3, member: 2, viewer: 1 };

/** True when `role` is at least `min`. */
export const atLeast = (role: Role, min: Role) => rank[role] >= rank[min];
