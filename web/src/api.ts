// The console's JSON API (docs/console.md): same-origin fetch with the session
// cookie, the CSRF token on every state change, JSON bodies, errors as ApiError.

export const BASE = '/ui/api/';

export type Tlp = { level: string; label: string };
export type Summary = {
  id: string; type: string; name: string; tlp?: Tlp;
  producer?: { id: string; name: string } | null; modified?: string; revoked?: boolean;
  snippet?: string; via?: string;
};
export type Me = {
  account: string; role: string; partner?: string | null; identity?: string;
  csrf?: string; totp?: boolean; node?: { name: string; identity: string };
};

export class ApiError extends Error {
  status: number;
  body: any;
  constructor(status: number, message: string, body?: any) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let csrf = '';
let onUnauthorized: (() => void) | null = null;

export function setCsrf(t: string | undefined | null) { csrf = t || ''; }
export function whenUnauthorized(f: () => void) { onUnauthorized = f; }

export function qs(params: Record<string, any>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '' || v === false) continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

export async function api<T = any>(path: string, method = 'GET', body?: any): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'same-origin', headers };
  if (method !== 'GET') {
    if (csrf) headers['X-CSRF-Token'] = csrf;
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  let r: Response;
  try {
    r = await fetch(BASE + path, init);
  } catch (e) {
    throw new ApiError(0, 'the node did not answer (' + String(e) + ')');
  }
  if (r.status === 204) return null as T;
  const text = await r.text();
  let j: any = null;
  try { j = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) {
    const msg = (j && j.error) || `${r.status} ${r.statusText}`;
    const err = new ApiError(r.status, msg, j);
    if (r.status === 401 && path !== 'login' && path !== 'me' && onUnauthorized) onUnauthorized();
    throw err;
  }
  return j as T;
}

export const canWrite = (me: Me | null) => !!me && (me.role === 'admin' || me.role === 'analyst');
export const isOwn = (me: Me | null) => !!me && ['admin', 'analyst', 'viewer'].includes(me.role);
