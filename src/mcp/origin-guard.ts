// DNS-rebinding protection for the MCP endpoint: the Host header must name this server and a browser's
// Origin must be one we know. Allowed by default: localhost, 127.0.0.1 and [::1], plus the host of
// PUBLIC_URL (or HOST when it is a concrete address). ALLOWED_HOSTS adds host names (a port, if given,
// is ignored); ALLOWED_ORIGINS adds origins (`https://app.example.com`, as Socket.IO's CORS uses them)
// or bare host names, and `<scheme>://*` admits every browser extension of that scheme.
// Requests without an Origin (every non-browser client) pass the Origin check.
import { hostHeaderValidationResponse, localhostAllowedHostnames, originValidationResponse } from '@modelcontextprotocol/server';
import type { Config } from '../config.js';

export interface AllowedHosts {
  hosts: string[];
  origins: string[];
}

/** "example.com", "example.com:8443", "[::1]:3000", "https://example.com" → the host name. */
function hostnameOf(entry: string): string | undefined {
  const e = entry.trim().toLowerCase();
  if (!e) return undefined;
  try {
    return new URL(e.includes('://') ? e : `http://${e}`).hostname || undefined;
  } catch {
    return undefined;
  }
}

const cache = new WeakMap<Config, AllowedHosts>();

export function allowedHosts(cfg: Config): AllowedHosts {
  let hit = cache.get(cfg);
  if (hit) return hit;
  const own = [hostnameOf(cfg.publicUrl), ['0.0.0.0', '::', ''].includes(cfg.HOST) ? undefined : hostnameOf(cfg.HOST)];
  const configuredHosts = (cfg.ALLOWED_HOSTS ?? []).map(hostnameOf);
  const hosts = [...new Set([...localhostAllowedHostnames(), ...own, ...configuredHosts].filter((h): h is string => !!h))];
  const extensionSchemes = (cfg.ALLOWED_ORIGINS ?? []).filter((o) => /^[a-z][a-z0-9+.-]*:\/\/\*$/.test(o) && !/^https?:/.test(o));
  const origins = [
    ...new Set([...hosts, ...(cfg.ALLOWED_ORIGINS ?? []).filter((o) => !extensionSchemes.includes(o)).map(hostnameOf), ...extensionSchemes]),
  ].filter((h): h is string => !!h);
  hit = { hosts, origins };
  cache.set(cfg, hit);
  return hit;
}

/** A 403 JSON-RPC error response when Host or Origin is not allowed; undefined when the request may proceed. */
export function rejectForeignRequest(request: Request, cfg: Config): Response | undefined {
  const allowed = allowedHosts(cfg);
  return hostHeaderValidationResponse(request, allowed.hosts) ?? originValidationResponse(request, allowed.origins);
}
