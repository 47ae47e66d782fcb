// Administration (admins): partners, accounts, tokens, the grants matrix with
// AMBER and RED recipients, and peers.  Secrets are shown once.
import { useState } from 'preact/hooks';
import { api, Me } from '../api';
import { href } from '../router';
import { Empty, ErrorBox, fmtTime, Loader, Section, useApi } from '../ui';
import { PeerTable } from './overview';

const ROLES = ['analyst', 'viewer', 'admin', 'metrics'];

function Secret({ what, value, onClose }: { what: string; value: string; onClose: () => void }) {
  return (
    <div class="secret" role="alert">
      <p><strong>{what}</strong> (shown once; copy it now):</p>
      <p><code class="mono" id="secret-value">{value}</code></p>
      <button type="button" onClick={onClose}>I have copied it</button>
    </div>
  );
}

function useAction() {
  const [error, setError] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const run = async (f: () => Promise<any>) => {
    setBusy(true); setError(null);
    try { return await f(); } catch (e) { setError(e); return undefined; } finally { setBusy(false); }
  };
  return { error, busy, run };
}

export function Admin({ me }: { me: Me }) {
  // a change in one section reloads the choices of the others (partners, accounts)
  const [v, setV] = useState(0);
  const changed = () => setV((x) => x + 1);
  return (
    <>
      <h1>Administration</h1>
      <nav class="tabs" aria-label="Administration sections">
        <a href="#partners">Partners</a><a href="#accounts">Accounts</a><a href="#tokens">Tokens</a><a href="#grants">Grants</a><a href="#peers">Peers</a>
      </nav>
      <Partners v={v} changed={changed} />
      <Accounts me={me} v={v} changed={changed} />
      <Tokens v={v} />
      <Grants v={v} />
      <Peers />
    </>
  );
}

type Sync = { v: number; changed?: () => void };

function Partners({ v, changed }: Sync) {
  const r = useApi<any>('admin/partners', v);
  const [f, setF] = useState({ name: '', country: '', sectors: '' });
  const a = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: any = { name: f.name.trim() };
    if (f.country.trim()) body.country = f.country.trim().toUpperCase();
    const sectors = f.sectors.split(/[\s,]+/).filter(Boolean);
    if (sectors.length) body.sectors = sectors;
    if (await a.run(() => api('admin/partners', 'POST', body)) !== undefined) { setF({ name: '', country: '', sectors: '' }); changed!(); }
  };
  return (
    <Section title="Partners" id="partners">
      <Loader r={r}>{(d) => d.partners.length === 0 ? <Empty what="No partners yet." /> : (
        <div class="scroll"><table id="partner-table">
          <thead><tr><th scope="col">Name</th><th scope="col">Country</th><th scope="col">Sectors</th><th scope="col">Accounts</th><th scope="col">Identity</th></tr></thead>
          <tbody>{d.partners.map((p: any) => (
            <tr key={p.name}><th scope="row">{p.name}</th><td>{p.country || '—'}</td><td>{(p.sectors || []).join(', ') || '—'}</td>
              <td>{Array.isArray(p.accounts) ? p.accounts.join(', ') || '—' : p.accounts ?? 0}</td>
              <td class="mono small">{p.identity ? <a href={href('/object/' + encodeURIComponent(p.identity))}>{p.identity}</a> : '—'}</td></tr>))}
          </tbody>
        </table></div>
      )}</Loader>
      <form class="filters" onSubmit={submit} id="partner-form" aria-label="Add a partner">
        <label class="wide">New partner's name<input name="name" required value={f.name} onInput={(e) => setF({ ...f, name: (e.target as HTMLInputElement).value })} /></label>
        <label>Country (ISO code)<input name="country" maxLength={2} size={4} value={f.country} onInput={(e) => setF({ ...f, country: (e.target as HTMLInputElement).value })} /></label>
        <label>Sectors (comma-separated STIX sectors)<input name="sectors" value={f.sectors} placeholder="water, utilities" onInput={(e) => setF({ ...f, sectors: (e.target as HTMLInputElement).value })} /></label>
        <div class="actions"><button type="submit" class="primary" disabled={a.busy}>Add partner</button></div>
      </form>
      <ErrorBox error={a.error} />
    </Section>
  );
}

function Accounts({ me, v, changed }: { me: Me } & Sync) {
  const r = useApi<any>('admin/accounts', v);
  const partners = useApi<any>('admin/partners', v);
  const [f, setF] = useState({ name: '', partner: '', role: 'analyst', password: '' });
  const [secret, setSecret] = useState<{ what: string; value: string } | null>(null);
  const a = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: any = { name: f.name.trim() };
    if (f.partner) body.partner = f.partner; else body.role = f.role;
    if (f.password) body.password = f.password;
    const res = await a.run(() => api<any>('admin/accounts', 'POST', body));
    if (res !== undefined) {
      if (res && res.password) setSecret({ what: `Password of ${res.name}`, value: res.password });
      setF({ name: '', partner: '', role: 'analyst', password: '' });
      changed!();
    }
  };
  const change = async (name: string, body: any) => {
    const res = await a.run(() => api<any>('admin/accounts/' + encodeURIComponent(name), 'POST', body));
    if (res && res.password) setSecret({ what: `New password of ${name}`, value: res.password });
    r.reload();
  };
  const remove = async (name: string) => {
    if (!confirm(`Delete the account ${name}? Its tokens stop working.`)) return;
    await a.run(() => api('admin/accounts/' + encodeURIComponent(name), 'DELETE'));
    r.reload();
  };
  return (
    <Section title="Accounts" id="accounts">
      {secret && <Secret what={secret.what} value={secret.value} onClose={() => setSecret(null)} />}
      <Loader r={r}>{(d) => (
        <div class="scroll"><table id="account-table">
          <thead><tr><th scope="col">Account</th><th scope="col">Partner or role</th><th scope="col">State</th><th scope="col">Tokens</th><th scope="col">TOTP</th><th scope="col">Actions</th></tr></thead>
          <tbody>{d.accounts.map((x: any) => (
            <tr key={x.name}>
              <th scope="row">{x.name}</th>
              <td>{x.partner ? `partner · ${x.partner}` : x.role}</td>
              <td>{x.disabled ? <span class="badge revoked">disabled</span> : 'active'}</td>
              <td>{Array.isArray(x.tokens) ? x.tokens.length : x.tokens ?? 0}</td>
              <td>{x.totp ? 'on' : 'off'}</td>
              <td class="row-actions">
                {x.disabled
                  ? <button type="button" onClick={() => change(x.name, { disabled: false })} aria-label={`Enable ${x.name}`}>Enable</button>
                  : <button type="button" onClick={() => change(x.name, { disabled: true })} aria-label={`Disable ${x.name}`} disabled={x.name === me.account}>Disable</button>}
                <button type="button" onClick={() => change(x.name, { password: null })} aria-label={`New password for ${x.name}`}>New password</button>
                <button type="button" class="danger" onClick={() => remove(x.name)} aria-label={`Delete ${x.name}`} disabled={x.name === me.account}>Delete</button>
              </td>
            </tr>))}
          </tbody>
        </table></div>
      )}</Loader>
      <form class="filters" onSubmit={submit} id="account-form" aria-label="Add an account">
        <label>New account's name<input name="name" required value={f.name} onInput={(e) => setF({ ...f, name: (e.target as HTMLInputElement).value })} /></label>
        <label>Partner (a partner's account)
          <select name="partner" value={f.partner} onChange={(e) => setF({ ...f, partner: (e.target as HTMLSelectElement).value })}>
            <option value="">— none: one of this node's people —</option>
            {(partners.data?.partners || []).map((p: any) => <option key={p.name} value={p.name}>{p.name}</option>)}
          </select>
        </label>
        <label>Role
          <select name="role" value={f.role} disabled={!!f.partner} onChange={(e) => setF({ ...f, role: (e.target as HTMLSelectElement).value })}>
            {ROLES.map((x) => <option key={x}>{x}</option>)}
          </select>
        </label>
        <label>Password (empty: generate one)<input name="password" type="password" autocomplete="new-password" value={f.password} onInput={(e) => setF({ ...f, password: (e.target as HTMLInputElement).value })} /></label>
        <div class="actions"><button type="submit" class="primary" disabled={a.busy}>Add account</button></div>
      </form>
      <ErrorBox error={a.error} />
    </Section>
  );
}

function Tokens({ v }: Sync) {
  const r = useApi<any>('admin/tokens', v);
  const accounts = useApi<any>('admin/accounts', v);
  const [f, setF] = useState({ account: '', label: '' });
  const [secret, setSecret] = useState<string>('');
  const a = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const body: any = { account: f.account };
    if (f.label.trim()) body.label = f.label.trim();
    const res = await a.run(() => api<any>('admin/tokens', 'POST', body));
    if (res) { setSecret(res.token); setF({ ...f, label: '' }); r.reload(); }
  };
  const revoke = async (id: any) => { await a.run(() => api('admin/tokens/' + encodeURIComponent(String(id)), 'DELETE')); r.reload(); };
  return (
    <Section title="API tokens" id="tokens">
      {secret && <Secret what="The new token" value={secret} onClose={() => setSecret('')} />}
      <Loader r={r}>{(d) => d.tokens.length === 0 ? <Empty what="No tokens." /> : (
        <div class="scroll"><table id="token-table">
          <thead><tr><th scope="col">Id</th><th scope="col">Account</th><th scope="col">Label</th><th scope="col">Created</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
          <tbody>{d.tokens.map((t: any) => (
            <tr key={t.id}><td class="mono">{t.id}</td><td>{t.account}</td><td>{t.label || '—'}</td><td>{fmtTime(t.created)}</td>
              <td>{t.revoked ? <span class="badge revoked">revoked</span> : 'active'}</td>
              <td>{!t.revoked && <button type="button" class="danger" onClick={() => revoke(t.id)} aria-label={`Revoke token ${t.id}`}>Revoke</button>}</td></tr>))}
          </tbody>
        </table></div>
      )}</Loader>
      <form class="filters" onSubmit={submit} aria-label="Create a token">
        <label>For account
          <select name="account" required value={f.account} onChange={(e) => setF({ ...f, account: (e.target as HTMLSelectElement).value })}>
            <option value="">choose…</option>
            {(accounts.data?.accounts || []).map((x: any) => <option key={x.name}>{x.name}</option>)}
          </select>
        </label>
        <label class="wide">Label<input name="label" value={f.label} onInput={(e) => setF({ ...f, label: (e.target as HTMLInputElement).value })} /></label>
        <div class="actions"><button type="submit" class="primary" disabled={a.busy}>Create token</button></div>
      </form>
      <ErrorBox error={a.error} />
    </Section>
  );
}

const FLAGS: [string, string][] = [['read', 'read'], ['write', 'write'], ['amber', 'AMBER'], ['amber_strict', 'AMBER+STRICT']];

function Grants({ v }: Sync) {
  const r = useApi<any>('admin/grants', v);
  const accounts = useApi<any>('admin/accounts', v);
  const a = useAction();
  const [redAdd, setRedAdd] = useState<Record<string, string>>({});
  const toggle = async (d: any, collection: string, partner: string, flag: string, on: boolean) => {
    const g = (d.grants || []).find((x: any) => x.collection === collection && x.partner === partner) || {};
    const body: any = { collection, partner, read: !!g.read, write: !!g.write, amber: !!g.amber, amber_strict: !!g.amber_strict };
    body[flag] = on;
    if (on && (flag === 'amber' || flag === 'amber_strict')) body.read = true;
    await a.run(() => api('admin/grants', 'POST', body));
    r.reload();
  };
  const red = async (collection: string, account: string, on: boolean) => {
    if (!account) return;
    await a.run(() => api('admin/red', 'POST', { collection, account, red: on }));
    r.reload();
  };
  return (
    <Section title="Grants: collections × partners" id="grants">
      <ErrorBox error={a.error} />
      <Loader r={r}>{(d) => (d.collections.length === 0 || d.partners.length === 0) ? <Empty what="Grants need at least one collection and one partner." /> : (
        <div class="scroll"><table class="grants" id="grants-table">
          <thead><tr><th scope="col">Collection</th>{d.partners.map((p: string) => <th scope="col" key={p}>{p}</th>)}<th scope="col">RED recipients</th></tr></thead>
          <tbody>{d.collections.map((c: any) => (
            <tr key={c.name}>
              <th scope="row">{c.title || c.name}<div class="muted small">{c.name} · default {String(c.default_tlp || 'none').toUpperCase()}{c.public ? ' · public' : ''}</div></th>
              {d.partners.map((p: string) => {
                const g = (d.grants || []).find((x: any) => x.collection === c.name && x.partner === p) || {};
                return (
                  <td key={p}><fieldset class="flags"><legend class="sr-only">{p} on {c.name}</legend>
                    {FLAGS.map(([k, l]) => (
                      <label key={k} class="check"><input type="checkbox" name={`${c.name}|${p}|${k}`} checked={!!g[k]} disabled={a.busy}
                        aria-label={`${l} for ${p} on ${c.name}`} onChange={(e) => toggle(d, c.name, p, k, (e.target as HTMLInputElement).checked)} />{l}</label>
                    ))}
                  </fieldset></td>
                );
              })}
              <td>
                <ul class="plain">{(d.red || []).filter((x: any) => x.collection === c.name).map((x: any) => (
                  <li key={x.account}>{x.account} <button type="button" class="link" onClick={() => red(c.name, x.account, false)} aria-label={`Remove ${x.account} as RED recipient of ${c.name}`}>remove</button></li>))}
                </ul>
                <label class="inline small"><span class="sr-only">Add a RED recipient to {c.name}</span>
                  <select name={`red-${c.name}`} value={redAdd[c.name] || ''} onChange={(e) => setRedAdd({ ...redAdd, [c.name]: (e.target as HTMLSelectElement).value })}>
                    <option value="">add account…</option>
                    {(accounts.data?.accounts || []).map((x: any) => <option key={x.name}>{x.name}</option>)}
                  </select>
                </label>
                <button type="button" onClick={() => red(c.name, redAdd[c.name] || '', true)} aria-label={`Add RED recipient to ${c.name}`}>Add</button>
              </td>
            </tr>))}
          </tbody>
        </table></div>
      )}</Loader>
    </Section>
  );
}

function Peers() {
  const r = useApi<any>('admin/peers');
  return (
    <Section title="Peers and their sync state" id="peers">
      <Loader r={r}>{(d) => (
        <>
          <PeerTable peers={d.peers} />
          {d.peers.length > 0 && <p class="muted small">{d.peers.map((p: any) => `${p.name}: collection ${p.collection || '—'}, ${p.pull ? 'pull' : ''}${p.pull && p.push ? ' and ' : ''}${p.push ? 'push' : ''}`).join('; ')}</p>}
        </>
      )}</Loader>
    </Section>
  );
}
