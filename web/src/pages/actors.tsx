// Actors: threat actors and intrusion sets with state attribution; a filter
// by country, sector and text; a profile with an ATT&CK matrix.
import { useEffect, useState } from 'preact/hooks';
import { qs } from '../api';
import { href, navigate } from '../router';
import { Empty, Loader, ObjLink, Section, TlpBadge, useApi } from '../ui';

export function Actors({ query }: { query: URLSearchParams }) {
  const cur = { country: query.get('country') || '', sector: query.get('sector') || '', q: query.get('q') || '' };
  const [form, setForm] = useState(cur);
  useEffect(() => setForm(cur), [query.toString()]);
  const sectors = useApi<any>('sectors');
  const r = useApi<any>('actors' + qs(cur));
  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  return (
    <>
      <h1>Actors</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); navigate('/actors' + qs({ ...form, country: form.country.trim().toUpperCase() })); }}>
        <label>Attributed to country (ISO code)
          <input name="country" id="actor-country" value={form.country} onInput={set('country')} maxLength={2} size={4} placeholder="RU" />
        </label>
        <label>Targets sector
          <select name="sector" id="actor-sector" value={form.sector} onChange={set('sector')}>
            <option value="">any</option>
            {(sectors.data?.sectors || []).map((s: any) => <option key={s.key} value={s.key}>{s.name}</option>)}
          </select>
        </label>
        <label class="wide">Name or alias
          <input type="search" name="q" id="actor-q" value={form.q} onInput={set('q')} placeholder="APT28, Fancy Bear, G0007" />
        </label>
        <div class="actions"><button type="submit" class="primary">Filter</button><button type="button" onClick={() => navigate('/actors')}>Clear</button></div>
      </form>
      <Loader r={r}>{(d) => (
        <>
          <p role="status" id="actor-count">{d.total != null && d.total > d.actors.length ? `${d.actors.length} of ${d.total} actors shown: filter to narrow` : `${d.actors.length} actor${d.actors.length === 1 ? '' : 's'}`}</p>
          {d.actors.length === 0 ? <Empty what="No actor matches." /> : (
            <div class="scroll"><table class="results" id="actor-table">
              <thead><tr><th scope="col">Actor</th><th scope="col">Aliases</th><th scope="col">Countries</th><th scope="col">Sectors</th><th scope="col">Campaigns</th><th scope="col">Malware</th><th scope="col">Techniques</th></tr></thead>
              <tbody>{d.actors.map((a: any) => (
                <tr key={a.id}>
                  <td><TlpBadge tlp={a.tlp} /> <span class={'type type-' + a.type}>{a.type}</span> <a href={href('/actors/' + encodeURIComponent(a.id))}>{a.name}</a></td>
                  <td class="small">{(a.aliases || []).slice(0, 6).join(', ')}{(a.aliases || []).length > 6 ? '…' : ''}</td>
                  <td>{(a.countries || []).map((c: any) => <span key={c.code} class="chip" title={`${c.via || ''}${c.confidence != null ? ', confidence ' + c.confidence : ''}`}>{c.code}</span>)}</td>
                  <td class="small">{(a.sectors || []).join(', ')}</td>
                  <td>{count(a.campaigns)}</td><td>{count(a.malware)}</td><td>{count(a.techniques)}</td>
                </tr>))}
              </tbody>
            </table></div>
          )}
        </>
      )}</Loader>
    </>
  );
}

const count = (v: any) => (Array.isArray(v) ? v.length : v ?? 0);

export function ActorDetail({ id }: { id: string }) {
  const r = useApi<any>('actors/' + encodeURIComponent(id));
  const [onlyUsed, setOnlyUsed] = useState(false);
  return (
    <Loader r={r}>{(a) => (
      <>
        <h1><span class={'type type-' + a.type}>{a.type}</span> {a.name}</h1>
        <p class="badges"><TlpBadge tlp={a.tlp} />{a.revoked && <span class="badge revoked">revoked</span>}
          <a href={href('/object/' + encodeURIComponent(a.id))}>Object page</a> · <a href={href('/graph?id=' + encodeURIComponent(a.id))}>Graph</a> · <a href={href('/timeline?id=' + encodeURIComponent(a.id))}>Timeline</a></p>
        {a.description && <p class="description">{a.description}</p>}
        <div class="grid">
          <Section title="State attribution" id="attribution">
            {a.sponsor && <p>Suspected sponsor: <strong>{typeof a.sponsor === 'string' ? a.sponsor : a.sponsor.name}</strong></p>}
            {(a.countries || []).length > 0 && <p>Countries: {a.countries.map((c: any) => <span key={c.code} class="chip">{c.code}{c.confidence != null ? ` (${c.confidence})` : ''}{c.via ? ` via ${c.via}` : ''}</span>)}</p>}
            {(a.attribution || []).length === 0 ? <Empty what="No attribution chain." /> : (
              <ol class="chain">{a.attribution.map((l: any, i: number) => (
                <li key={i}><ObjLink s={l.from} /> <span class="reltype">{l.relationship_type}</span> <ObjLink s={l.to} />{l.confidence != null && <span class="muted"> (confidence {l.confidence})</span>}</li>))}
              </ol>
            )}
          </Section>
          <Section title="Aliases" id="aliases">
            {(a.aliases || []).length === 0 ? <Empty what="None." /> : <p>{a.aliases.map((x: string) => <span class="chip" key={x}>{x}</span>)}</p>}
            <h3>Targeted sectors</h3>
            {(a.sectors || []).length === 0 ? <Empty what="None known." /> : <p>{a.sectors.map((x: string) => <a class="chip" key={x} href={href('/sectors/' + encodeURIComponent(x))}>{x}</a>)}</p>}
          </Section>
          <Section title="Campaigns" id="campaigns"><List items={a.campaigns} /></Section>
          <Section title="Malware and tools" id="malware"><List items={[...(a.malware || []), ...(a.tools || [])]} /></Section>
          <Section title="Targets" id="targets"><List items={a.targets} /></Section>
        </div>
        <Section title="ATT&CK techniques" id="matrix" actions={
          <label class="inline small"><input type="checkbox" checked={onlyUsed} onChange={(e) => setOnlyUsed((e.target as HTMLInputElement).checked)} /> only the techniques used</label>}>
          <Matrix m={a.matrix} onlyUsed={onlyUsed} />
        </Section>
      </>
    )}</Loader>
  );
}

function List({ items }: { items?: any[] }) {
  if (!items || !items.length) return <Empty what="None known." />;
  return <ul>{items.map((x) => <li key={x.id}><ObjLink s={x} /></li>)}</ul>;
}

function Matrix({ m, onlyUsed }: { m: any; onlyUsed: boolean }) {
  const tactics: any[] = m?.tactics || [];
  if (!tactics.length) return <Empty what="No ATT&CK techniques in the store (import ATT&CK enterprise to see the matrix)." />;
  const used = tactics.reduce((n, t) => n + t.techniques.filter((x: any) => x.used).length, 0);
  return (
    <>
      <p class="muted small">{used} technique uses highlighted; columns are tactics, as in ATT&CK Navigator.</p>
      <div class="matrix" role="table" aria-label="ATT&CK matrix">
        <div role="rowgroup" class="matrix-cols">
          {tactics.map((t) => {
            const techs = onlyUsed ? t.techniques.filter((x: any) => x.used) : t.techniques;
            return (
              <div class="tactic" role="row" key={t.shortname}>
                <div class="tactic-h" role="columnheader">{t.name}<span class="muted small"> {t.techniques.filter((x: any) => x.used).length}/{t.techniques.length}</span></div>
                {techs.map((x: any) => (
                  <a role="cell" key={x.id + t.shortname} href={href('/object/' + encodeURIComponent(x.id))} class={'tech' + (x.used ? ' used' : '')} title={`${x.external_id} ${x.name}${x.used ? ' (used)' : ''}`}>
                    <span class="mono">{x.external_id}</span> {x.name}
                  </a>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </>
  );
}
