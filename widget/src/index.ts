// widget.js entry: one script tag
//   <script src="https://flowspark.example/widget.js" data-tenant="acme" data-token="fsw_…" async></script>
// or, for a token the page fetches itself, `FlowSpark.init({ tenant, token, getToken })`.
// Attributes: data-tenant (branding), data-token, data-open="true", data-transport="http", data-title,
// data-server (defaults to the origin widget.js came from).
import { Widget, type WidgetOptions } from './widget.js';

const script = document.currentScript as HTMLScriptElement | null;
const data = script?.dataset ?? {};
const origin = script?.src ? new URL(script.src, location.href).origin : location.origin;

let current: Widget | undefined;

function init(options: Partial<WidgetOptions> = {}): void {
  current?.destroy();
  current = new Widget({
    server: (options.server ?? data.server ?? origin).replace(/\/$/, ''),
    tenant: options.tenant ?? data.tenant,
    token: options.token ?? data.token,
    getToken: options.getToken,
    open: options.open ?? data.open === 'true',
    transport: options.transport ?? (data.transport === 'http' ? 'http' : 'auto'),
    title: options.title ?? data.title,
  });
  const mount = () => current!.mount();
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
}

const api = {
  init,
  open: () => current?.open(),
  close: () => current?.close(),
  setToken: (token: string) => current?.setToken(token),
  destroy: () => {
    current?.destroy();
    current = undefined;
  },
};

(window as unknown as { FlowSpark: typeof api }).FlowSpark = api;
if (data.tenant || data.token) init();
window.dispatchEvent(new Event('flowspark:ready'));
