// History routing under /ui/: the server answers index.html for every /ui/
// path without a dot in its last segment, so a reload keeps the page.
import { useEffect, useState } from 'preact/hooks';

export const ROOT = '/ui';

export type Loc = { path: string; query: URLSearchParams };

function current(): Loc {
  let p = location.pathname;
  if (p.startsWith(ROOT)) p = p.slice(ROOT.length);
  if (!p.startsWith('/')) p = '/' + p;
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return { path: p, query: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();

export function navigate(to: string, replace = false) {
  const url = to.startsWith(ROOT) ? to : ROOT + to;
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((f) => f());
  if (!replace) window.scrollTo(0, 0);
}

export function href(to: string) { return to.startsWith(ROOT) ? to : ROOT + to; }

export function useLocation(): Loc {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const f = () => {
      const n = current();
      setLoc((o) => (o.path === n.path && o.query.toString() === n.query.toString() ? o : n));
    };
    listeners.add(f);
    window.addEventListener('popstate', f);
    return () => { listeners.delete(f); window.removeEventListener('popstate', f); };
  }, []);
  return loc;
}

/* Plain clicks on same-origin /ui/ links route inside the page; others go through. */
export function interceptLinks() {
  document.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = (e.target as Element).closest && (e.target as Element).closest('a');
    if (!a || a.target || a.hasAttribute('download')) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin || !u.pathname.startsWith(ROOT + '/') || u.pathname.startsWith(ROOT + '/api/')) return;
    if (u.hash && u.pathname === location.pathname && u.search === location.search) return;
    e.preventDefault();
    navigate(u.pathname + u.search);
  });
}
