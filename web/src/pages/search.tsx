// Search and lists: full text plus filters from /ui/api/facets, paged, with a
// STIX bundle export of the same query (optionally through a partner's policy).
import { useEffect, useState } from 'preact/hooks';
import { BASE, Me, qs } from '../api';
import { navigate } from '../router';
import { Empty, fmtTime, Loader, ObjLink, useApi } from '../ui';

const PAGE = 50;
const FIELDS = ['q', 'type', 'tlp', 'producer', 'collection', 'since', 'until', 'revoked'];

export function Search({ me, query }: { me: Me; query: URLSearchParams }) {
  const cur: Record<string, string> = {};
  FIELDS.forEach((f) => (cur[f] = query.get(f) || ''));
  const offset = Number(query.get('offset') || 0) || 0;
  const [form, setForm] = useState(cur);
  const [forPartner, setForPartner] = useState('');
  useEffect(() => setForm(cur), [query.toString()]);
  const facets = useApi<any>('facets');
  const own = me.role !== 'partner' && !me.partner;
  const partners = useApi<any>(me.role === 'admin' ? 'admin/partners' : null);
  const results = useApi<any>('search' + qs({ ...cur, limit: PAGE, offset }));

  const set = (k: string) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const submit = (e: Event) => { e.preventDefault(); navigate('/search' + qs(form)); };
  const page = (o: number) => navigate('/search' + qs({ ...cur, offset: o || '' }));
  const exportHref = BASE + 'export' + qs({ ...cur, for: forPartner });

  return (
    <>
      <h1>Search and lists</h1>
      <form class="filters" onSubmit={submit} role="search">
        <label class="wide">Search text
          <input type="search" name="q" id="search-q" value={form.q} onInput={set('q')} placeholder="names, descriptions, aliases, T1566, CVE-…, 203.0.113.66" />
        </label>
        <Loader r={facets}>{(f) => (
          <>
            <label>Type
              <select name="type" value={form.type} onChange={set('type')}>
                <option value="">any</option>
                {(f.types || []).map((t: any) => <option value={t.type} key={t.type}>{t.type} ({t.count})</option>)}
              </select>
            </label>
            <label>TLP
              <select name="tlp" value={form.tlp} onChange={set('tlp')}>
                <option value="">any</option>
                {(f.tlp || []).map((t: any) => <option value={t.level} key={t.level}>{t.level.toUpperCase()} ({t.count})</option>)}
              </select>
            </label>
            <label>Producer
              <select name="producer" value={form.producer} onChange={set('producer')}>
                <option value="">any</option>
                {(f.producers || []).map((p: any) => <option value={p.id} key={p.id}>{p.name || p.id} ({p.count})</option>)}
              </select>
            </label>
            <label>Collection
              <select name="collection" value={form.collection} onChange={set('collection')}>
                <option value="">any</option>
                {(f.collections || []).map((c: any) => <option value={c.name} key={c.name}>{c.name} ({c.count})</option>)}
              </select>
            </label>
          </>
        )}</Loader>
        <label>Modified since<input type="date" name="since" value={form.since} onInput={set('since')} /></label>
        <label>until<input type="date" name="until" value={form.until} onInput={set('until')} /></label>
        <label>Revoked
          <select name="revoked" value={form.revoked} onChange={set('revoked')}>
            <option value="">either</option><option value="false">not revoked</option><option value="true">revoked only</option>
          </select>
        </label>
        <div class="actions">
          <button type="submit" class="primary">Search</button>
          <button type="button" onClick={() => navigate('/search')}>Clear</button>
        </div>
      </form>
      <Loader r={results}>{(r) => (
        <>
          <div class="page-h">
            <p role="status" id="result-count">{r.total.toLocaleString()} result{r.total === 1 ? '' : 's'}{r.total > PAGE ? `, ${offset + 1}–${Math.min(offset + PAGE, r.total)} shown` : ''}</p>
            {own && (
              <div class="export">
                {partners.data && (
                  <label class="inline">for partner
                    <select name="for" value={forPartner} onChange={(e) => setForPartner((e.target as HTMLSelectElement).value)}>
                      <option value="">(this node's view)</option>
                      {partners.data.partners.map((p: any) => <option key={p.name} value={p.name}>{p.name}</option>)}
                    </select>
                  </label>
                )}
                <a class="button" id="export" href={exportHref} download="schakel-export.json">Export as STIX bundle</a>
              </div>
            )}
          </div>
          {r.results.length === 0 ? <Empty what="Nothing found." /> : (
            <div class="scroll"><table class="results">
              <thead><tr><th scope="col">Object</th><th scope="col">Producer</th><th scope="col">Modified</th></tr></thead>
              <tbody>{r.results.map((s: any) => (
                <tr key={s.id}>
                  <td><ObjLink s={s} />{s.snippet && <div class="snippet small">{s.snippet}</div>}</td>
                  <td>{s.producer?.name || '—'}</td>
                  <td>{fmtTime(s.modified)}</td>
                </tr>))}
              </tbody>
            </table></div>
          )}
          <nav class="pager" aria-label="Result pages">
            <button type="button" disabled={offset === 0} onClick={() => page(Math.max(0, offset - PAGE))}>← Previous</button>
            <button type="button" disabled={offset + PAGE >= r.total} onClick={() => page(offset + PAGE)}>Next →</button>
          </nav>
        </>
      )}</Loader>
    </>
  );
}
