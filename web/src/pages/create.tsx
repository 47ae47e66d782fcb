// Analysts' forms: notes, opinions, sightings, reports, indicators and
// relationships (POST /ui/api/objects), and a new version of an object this
// node produced (PUT /ui/api/objects/{id}), both signed by the node.
import { useState } from 'preact/hooks';
import { api, Me, qs } from '../api';
import { href, navigate } from '../router';
import { ErrorBox, Loader, TLP_MARKINGS, useApi } from '../ui';

const TYPES = ['note', 'opinion', 'sighting', 'report', 'indicator', 'relationship'];
const OPINIONS = ['strongly-disagree', 'disagree', 'neutral', 'agree', 'strongly-agree'];
const REL_TYPES = ['uses', 'indicates', 'targets', 'attributed-to', 'related-to', 'mitigates', 'located-at', 'originates-from', 'variant-of', 'derived-from', 'duplicate-of'];
const SIG_EXT = 'extension-definition--5c4ac1a5-2d8e-4f61-9b3e-7a0d1f6c8e24';

type Field = { name: string; label: string; kind?: 'text' | 'area' | 'select' | 'list' | 'datetime' | 'number'; options?: string[]; required?: boolean; hint?: string };

const FORMS: Record<string, Field[]> = {
  note: [
    { name: 'abstract', label: 'Abstract' },
    { name: 'content', label: 'Content', kind: 'area', required: true },
    { name: 'object_refs', label: 'About (object ids, one per line)', kind: 'list', required: true },
  ],
  opinion: [
    { name: 'opinion', label: 'Opinion', kind: 'select', options: OPINIONS, required: true },
    { name: 'explanation', label: 'Explanation', kind: 'area' },
    { name: 'object_refs', label: 'About (object ids, one per line)', kind: 'list', required: true },
  ],
  sighting: [
    { name: 'sighting_of_ref', label: 'Sighting of (indicator, malware… id)', required: true },
    { name: 'count', label: 'Count', kind: 'number' },
    { name: 'first_seen', label: 'First seen', kind: 'datetime' },
    { name: 'last_seen', label: 'Last seen', kind: 'datetime' },
    { name: 'where_sighted_refs', label: 'Where (identity or location ids, one per line)', kind: 'list' },
    { name: 'description', label: 'Description', kind: 'area' },
  ],
  report: [
    { name: 'name', label: 'Name', required: true },
    { name: 'description', label: 'Description', kind: 'area' },
    { name: 'report_types', label: 'Report types (one per line)', kind: 'list', hint: 'threat-report, campaign, attack-pattern…' },
    { name: 'published', label: 'Published', kind: 'datetime', required: true },
    { name: 'object_refs', label: 'Objects (ids, one per line)', kind: 'list', required: true },
  ],
  indicator: [
    { name: 'name', label: 'Name', required: true },
    { name: 'pattern', label: 'STIX pattern', required: true, hint: "[ipv4-addr:value = '203.0.113.9']" },
    { name: 'indicator_types', label: 'Indicator types (one per line)', kind: 'list', hint: 'malicious-activity' },
    { name: 'valid_from', label: 'Valid from', kind: 'datetime', required: true },
    { name: 'description', label: 'Description', kind: 'area' },
  ],
  relationship: [
    { name: 'source_ref', label: 'Source id', required: true },
    { name: 'relationship_type', label: 'Relationship type', kind: 'select', options: REL_TYPES, required: true },
    { name: 'target_ref', label: 'Target id', required: true },
    { name: 'description', label: 'Description', kind: 'area' },
  ],
};

function nowLocal() { return new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 16); }

function initial(type: string, ref: string): Record<string, string> {
  const v: Record<string, string> = { tlp: 'green' };
  for (const f of FORMS[type] || []) v[f.name] = f.kind === 'datetime' ? nowLocal() : f.kind === 'select' ? f.options![0] : '';
  if (ref) {
    if (type === 'note' || type === 'opinion' || type === 'report') v.object_refs = ref;
    if (type === 'sighting') v.sighting_of_ref = ref;
    if (type === 'relationship') v.source_ref = ref;
  }
  if (type === 'sighting') v.count = '1';
  if (type === 'indicator') v.indicator_types = 'malicious-activity';
  if (type === 'report') v.report_types = 'threat-report';
  if (type === 'opinion') v.opinion = 'agree';
  return v;
}

export function CreatePage({ query }: { me: Me; query: URLSearchParams }) {
  const type = TYPES.includes(query.get('type') || '') ? query.get('type')! : 'note';
  const ref = query.get('ref') || '';
  return (
    <>
      <h1>Create</h1>
      <nav class="tabs" aria-label="Kind of object">
        {TYPES.map((t) => <a key={t} href={href('/create' + qs({ type: t, ref }))} aria-current={t === type ? 'page' : undefined}>{t}</a>)}
      </nav>
      <CreateForm key={type + ref} type={type} ref0={ref} />
    </>
  );
}

function CreateForm({ type, ref0 }: { type: string; ref0: string }) {
  const [v, setV] = useState(() => initial(type, ref0));
  const [error, setError] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: string) => (e: Event) => setV({ ...v, [k]: (e.target as HTMLInputElement).value });
  const submit = async (e: Event) => {
    e.preventDefault();
    const o: any = { type, spec_version: '2.1' };
    for (const f of FORMS[type]) {
      const raw = (v[f.name] || '').trim();
      if (!raw) continue;
      if (f.kind === 'list') o[f.name] = raw.split(/[\s,]+/).filter(Boolean);
      else if (f.kind === 'number') o[f.name] = Number(raw);
      else if (f.kind === 'datetime') o[f.name] = new Date(raw).toISOString();
      else o[f.name] = raw;
    }
    if (type === 'indicator') o.pattern_type = 'stix';
    if (v.tlp && TLP_MARKINGS[v.tlp]) o.object_marking_refs = [TLP_MARKINGS[v.tlp]];
    setBusy(true); setError(null);
    try {
      const r = await api<any>('objects', 'POST', { object: o });
      navigate('/object/' + encodeURIComponent(r.id));
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <form class="stack form" onSubmit={submit} id="create-form">
      <h2>New {type}</h2>
      {FORMS[type].map((f) => (
        <label key={f.name}>{f.label}{f.required ? ' (required)' : ''}
          {f.kind === 'area' || f.kind === 'list' ? (
            <textarea name={f.name} rows={f.kind === 'list' ? 3 : 5} required={f.required} value={v[f.name]} onInput={set(f.name)} placeholder={f.hint} />
          ) : f.kind === 'select' ? (
            <select name={f.name} value={v[f.name]} onChange={set(f.name)}>{f.options!.map((o) => <option key={o}>{o}</option>)}</select>
          ) : (
            <input name={f.name} type={f.kind === 'datetime' ? 'datetime-local' : f.kind === 'number' ? 'number' : 'text'} min={f.kind === 'number' ? 0 : undefined}
              required={f.required} value={v[f.name]} onInput={set(f.name)} placeholder={f.hint} />
          )}
        </label>
      ))}
      <label>TLP
        <select name="tlp" value={v.tlp} onChange={set('tlp')}>
          {Object.keys(TLP_MARKINGS).map((t) => <option key={t} value={t}>TLP:{t.toUpperCase()}</option>)}
        </select>
      </label>
      <ErrorBox error={error} />
      <div class="actions"><button type="submit" class="primary" disabled={busy}>{busy ? 'Saving…' : `Create ${type}`}</button></div>
      <p class="muted small">The node fills in the id and times, names itself as producer and signs the object.</p>
    </form>
  );
}

export function EditPage({ id }: { id: string }) {
  const r = useApi<any>('objects/' + encodeURIComponent(id));
  return (
    <>
      <h1>Edit: a new version</h1>
      <p><a href={href('/object/' + encodeURIComponent(id))}>Back to the object</a></p>
      <Loader r={r}>{(o) => <EditForm o={o} />}</Loader>
    </>
  );
}

function EditForm({ o }: { o: any }) {
  const start = { ...o.object };
  if (start.extensions) {
    start.extensions = { ...start.extensions };
    delete start.extensions[SIG_EXT]; // the node signs the new version itself
    if (!Object.keys(start.extensions).length) delete start.extensions;
  }
  delete start.modified;
  const [text, setText] = useState(JSON.stringify(start, null, 2));
  const [error, setError] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    let obj: any;
    try { obj = JSON.parse(text); } catch (err) { setError('Not valid JSON: ' + (err as Error).message); return; }
    // no modified: the node stamps the new version with its own clock
    setBusy(true); setError(null);
    try {
      await api<any>('objects/' + encodeURIComponent(o.id), 'PUT', { object: obj });
      navigate('/object/' + encodeURIComponent(o.id));
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return (
    <form class="stack form" onSubmit={submit}>
      <label>The object's properties (JSON; without modified, the node sets the new version's time, and it signs it)
        <textarea name="object" class="mono" rows={24} value={text} onInput={(e) => setText((e.target as HTMLTextAreaElement).value)} spellcheck={false} />
      </label>
      <ErrorBox error={error} />
      <div class="actions"><button type="submit" class="primary" disabled={busy}>Save new version</button></div>
    </form>
  );
}
