// What the widget shows before anyone signs in: the tenant's name, logo and colour. Public, so it
// returns branding only.
import { Tenant } from '../../db/models/index.js';
import { notFound } from '../../errors.js';

export interface WidgetBranding {
  name: string;
  slug: string;
  logoUrl: string | null;
  primaryColor: string;
}

const DEFAULT_COLOR = '#0066CC';

const safeLogo = (url: string | null) => {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
};

export async function getWidgetBranding(slug: string): Promise<WidgetBranding> {
  const tenant = await Tenant.findOne({ where: { slug }, attributes: ['name', 'slug', 'status', 'logoUrl', 'primaryColor'] });
  if (!tenant || tenant.status === 'suspended' || tenant.status === 'cancelled') throw notFound('Team', 'tenant_not_found');
  return {
    name: tenant.name,
    slug: tenant.slug,
    logoUrl: safeLogo(tenant.logoUrl),
    primaryColor: tenant.primaryColor && /^#[0-9a-f]{6}$/i.test(tenant.primaryColor) ? tenant.primaryColor : DEFAULT_COLOR,
  };
}
