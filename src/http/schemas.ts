// Response and request schemas shared by routes (and the OpenAPI document).
import { z } from '@hono/zod-openapi';
import { ROLES } from '../auth/roles.js';
import { API_KEY_SCOPES } from '../auth/context.js';

export const RoleSchema = z.enum(ROLES);
export const ScopeSchema = z.enum(API_KEY_SCOPES);
const Email = z.string().trim().toLowerCase().email().max(255);

export const UserSchema = z
  .object({
    id: z.string().uuid(),
    tenantId: z.string().uuid(),
    email: z.string(),
    role: RoleSchema,
    isActive: z.boolean(),
    emailVerified: z.boolean(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    avatarUrl: z.string().nullable(),
    phone: z.string().nullable(),
    department: z.string().nullable(),
    timezone: z.string().nullable(),
    language: z.string().nullable(),
    lastLogin: z.date().nullable(),
    createdAt: z.date(),
  })
  .openapi('User');

export const TenantSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    slug: z.string(),
    tier: z.string(),
    status: z.string(),
    maxUsers: z.number().nullable(),
    maxStorageGb: z.number().nullable(),
    logoUrl: z.string().nullable(),
    primaryColor: z.string().nullable(),
  })
  .openapi('Tenant');

export const SessionResponse = z
  .object({ token: z.string(), expiresAt: z.date(), user: UserSchema, tenant: TenantSchema })
  .openapi('SessionResponse');

export const SignupBody = z
  .object({
    tenantName: z.string().trim().min(1).max(255),
    email: Email,
    password: z.string().min(1).max(256),
    firstName: z.string().trim().max(150).optional(),
    lastName: z.string().trim().max(150).optional(),
  })
  .openapi('SignupBody');

export const LoginBody = z
  .object({
    email: Email,
    password: z.string().min(1).max(256),
    tenantSlug: z.string().trim().min(1).max(100).optional(),
  })
  .openapi('LoginBody');

const optionalText = (max: number) => z.string().trim().max(max).nullable().optional();

export const ProfileBody = z
  .object({
    firstName: optionalText(150),
    lastName: optionalText(150),
    avatarUrl: z.string().url().max(2000).nullable().optional(),
    phone: optionalText(20),
    department: optionalText(100),
    timezone: z.string().max(50).optional(),
    language: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a language tag such as en or pt-BR').max(10).optional(),
  })
  .strict()
  .openapi('ProfileBody');

export const PasswordBody = z
  .object({ currentPassword: z.string().min(1).max(256), newPassword: z.string().min(1).max(256) })
  .openapi('PasswordBody');

export const CreateUserBody = z
  .object({
    email: Email,
    password: z.string().min(1).max(256).optional(),
    role: RoleSchema.default('member'),
    firstName: z.string().trim().max(150).optional(),
    lastName: z.string().trim().max(150).optional(),
    department: z.string().trim().max(100).optional(),
  })
  .openapi('CreateUserBody');

export const UpdateUserBody = z
  .object({
    role: RoleSchema.optional(),
    isActive: z.boolean().optional(),
    firstName: optionalText(150),
    lastName: optionalText(150),
    department: optionalText(100),
  })
  .strict()
  .openapi('UpdateUserBody');

export const ApiKeySchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    prefix: z.string(),
    scopes: z.array(ScopeSchema),
    userId: z.string().uuid(),
    lastUsedAt: z.date().nullable(),
    expiresAt: z.date().nullable(),
    revokedAt: z.date().nullable(),
    createdAt: z.date(),
  })
  .openapi('ApiKey');

export const CreateApiKeyBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(ScopeSchema).min(1).default(['read', 'write', 'chat']),
    userId: z.string().uuid().optional(),
    expiresAt: z.coerce.date().optional(),
  })
  .openapi('CreateApiKeyBody');
