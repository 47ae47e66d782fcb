// The console's shell: who is logged in, the navigation bar, the theme and the routes.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './style.css';
import { api, canWrite, Me, setCsrf, whenUnauthorized, isOwn } from './api';
import { href, interceptLinks, navigate, useLocation } from './router';
import { Login } from './pages/login';
import { Overview } from './pages/overview';
import { Search } from './pages/search';
import { ObjectPage } from './pages/object';
import { GraphPage } from './pages/graph';
import { Actors, ActorDetail } from './pages/actors';
import { Sectors, SectorDetail } from './pages/sectors';
import { Cooperation } from './pages/cooperation';
import { Peers } from './pages/peers';
import { Timeline } from './pages/timeline';
import { Dossier } from './pages/dossier';
import { CreatePage, EditPage } from './pages/create';
import { Admin } from './pages/admin';
import { AccountPage } from './pages/account';

/* ---- theme: remembered, else the system's preference ---- */
function initialTheme(): string {
  const saved = localStorage.getItem('sk-theme');
  if (saved === 'dark' || saved === 'light') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
document.documentElement.dataset.theme = initialTheme();

function ThemeToggle() {
  const [t, setT] = useState(document.documentElement.dataset.theme || 'light');
  const next = t === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" class="ghost" aria-label={`Switch to the ${next} theme`} title={`Switch to the ${next} theme`}
      onClick={() => { document.documentElement.dataset.theme = next; localStorage.setItem('sk-theme', next); setT(next); }}>
      {t === 'dark' ? '☀ Light' : '☾ Dark'}
    </button>
  );
}

const NAV: { to: string; label: string; own?: boolean; write?: boolean; admin?: boolean }[] = [
  { to: '/', label: 'Overview' },
  { to: '/search', label: 'Search' },
  { to: '/graph', label: 'Graph' },
  { to: '/actors', label: 'Actors' },
  { to: '/sectors', label: 'Sectors' },
  { to: '/timeline', label: 'Timeline' },
  { to: '/cooperation', label: 'Cooperation' },
  { to: '/peers', label: 'Peers', own: true },
  { to: '/dossier', label: 'Dossier' },
  { to: '/create', label: 'Create', write: true },
  { to: '/admin', label: 'Administration', admin: true },
];


function Nav({ me, onLogout }: { me: Me; onLogout: () => void }) {
  const path = useLocation().path;
  const items = NAV.filter((n) => (!n.write || canWrite(me)) && (!n.admin || me.role === 'admin') && (!n.own || isOwn(me)));
  const active = (to: string) => (to === '/' ? path === '/' : path === to || path.startsWith(to + '/'));
  return (
    <header class="topbar">
      <a class="brand" href={href('/')}>schakel<span class="muted"> · {me.node?.name || 'console'}</span></a>
      <nav aria-label="Main">
        <ul>
          {items.map((n) => (
            <li key={n.to}><a href={href(n.to)} aria-current={active(n.to) ? 'page' : undefined}>{n.label}</a></li>
          ))}
        </ul>
      </nav>
      <div class="who">
        <a class="account" href={href('/account')} title={me.partner ? `partner account of ${me.partner}` : `role ${me.role}`}
          aria-current={path === '/account' ? 'page' : undefined}>
          {me.account} <span class="role">{me.partner ? `partner · ${me.partner}` : me.role}</span>
        </a>
        <ThemeToggle />
        <button type="button" id="logout" onClick={onLogout}>Log out</button>
      </div>
    </header>
  );
}

function Routes({ me, refresh }: { me: Me; refresh: () => void }) {
  const loc = useLocation();
  const p = loc.path;
  const seg = p.split('/').filter(Boolean).map(decodeURIComponent);
  let page;
  switch (seg[0] || '') {
    case '': page = <Overview me={me} />; break;
    case 'login': page = <Overview me={me} />; break;
    case 'search': page = <Search me={me} query={loc.query} />; break;
    case 'object': page = <ObjectPage me={me} id={seg[1] || ''} />; break;
    case 'graph': page = <GraphPage id={loc.query.get('id') || ''} />; break;
    case 'actors': page = seg[1] ? <ActorDetail id={seg[1]} /> : <Actors query={loc.query} />; break;
    case 'sectors': page = seg[1] ? <SectorDetail keyName={seg[1]} /> : <Sectors />; break;
    case 'timeline': page = <Timeline id={loc.query.get('id') || ''} />; break;
    case 'cooperation': page = <Cooperation me={me} />; break;
    case 'peers': page = isOwn(me) ? <Peers /> : <Forbidden />; break;
    case 'dossier': page = <Dossier me={me} query={loc.query} />; break;
    case 'create': page = canWrite(me) ? <CreatePage me={me} query={loc.query} /> : <Forbidden />; break;
    case 'edit': page = canWrite(me) ? <EditPage id={seg[1] || ''} /> : <Forbidden />; break;
    case 'account': page = <AccountPage me={me} onChange={refresh} />; break;
    case 'admin': page = me.role === 'admin' ? <Admin me={me} /> : <Forbidden />; break;
    default: page = <NotFound />;
  }
  useEffect(() => { if (seg[0] === 'login') navigate('/', true); }, [p]);
  // after a move to another page, focus goes to its content (screen readers announce it)
  const first = useRef(true);
  useEffect(() => {
    if (first.current) { first.current = false; return; }
    (document.getElementById('main') as HTMLElement | null)?.focus({ preventScroll: true });
  }, [p]);
  useEffect(() => {
    const h = document.querySelector('main h1') as HTMLElement | null;
    document.title = (h ? h.textContent + ' · ' : '') + 'schakel console';
  });
  return <main id="main" tabIndex={-1}>{page}</main>;
}

function Forbidden() { return <><h1>Not allowed</h1><p>This page needs another role.</p></>; }
function NotFound() { return <><h1>Not found</h1><p>No such page. <a href={href('/')}>Back to the overview</a>.</p></>; }

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [checked, setChecked] = useState(false);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    whenUnauthorized(() => { setMe(null); setCsrf(null); setNotice('Your session has ended: log in again.'); });
    api<Me>('me').then((m) => { setCsrf(m.csrf); setMe(m); }, () => setMe(null)).finally(() => setChecked(true));
  }, []);

  const logout = async () => {
    try { await api('logout', 'POST', {}); } catch { /* gone already */ }
    setCsrf(null); setMe(null); setNotice('You are logged out.');
    navigate('/login');
  };

  if (!checked) return <p class="muted" role="status">Loading…</p>;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); (document.getElementById('main') as HTMLElement)?.focus(); }}>Skip to content</a>
      {me ? (
        <>
          <Nav me={me} onLogout={logout} />
          <Routes me={me} refresh={() => api<Me>('me').then((m) => { setCsrf(m.csrf); setMe(m); }, () => undefined)} />
        </>
      ) : (
        <main id="main" tabIndex={-1}>
          <Login notice={notice} onLogin={(m) => {
            setCsrf(m.csrf); setNotice('');
            api<Me>('me').then((full) => { setCsrf(full.csrf || m.csrf); setMe(full); }, () => setMe(m));
            if (location.pathname.replace(/\/$/, '') === '/ui/login') navigate('/', true);
          }} />
        </main>
      )}
    </>
  );
}

interceptLinks();
render(<App />, document.getElementById('app')!);
