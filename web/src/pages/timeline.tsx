// Timeline of a campaign or actor: its events over time, as a chart and a list.
import { useEffect, useState } from 'preact/hooks';
import { qs } from '../api';
import { href, navigate } from '../router';
import { Empty, fmtTime, Loader, ObjLink, useApi } from '../ui';
import { pivot, TimeChart } from '../chart';

export function Timeline({ id }: { id: string }) {
  const [input, setInput] = useState(id);
  useEffect(() => setInput(id), [id]);
  const r = useApi<any>(id ? 'timeline' + qs({ id }) : null);
  const pick = useApi<any>(id ? null : 'search' + qs({ type: 'campaign', limit: 20 }));
  return (
    <>
      <h1>Timeline</h1>
      <form class="filters" onSubmit={(e) => { e.preventDefault(); if (input.trim()) navigate('/timeline' + qs({ id: input.trim() })); }}>
        <label class="wide">Campaign, actor or object id
          <input name="id" id="timeline-id" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} placeholder="campaign--…" />
        </label>
        <div class="actions"><button type="submit" class="primary">Show</button></div>
      </form>
      {!id && <Loader r={pick}>{(p) => (
        p.results.length === 0 ? <Empty what="No campaigns yet." /> : (
          <><h2>Campaigns</h2><ul>{p.results.map((s: any) => <li key={s.id}><a href={href('/timeline' + qs({ id: s.id }))}>{s.name}</a></li>)}</ul></>)
      )}</Loader>}
      {id && <Loader r={r}>{(t) => <TimelineBody t={t} />}</Loader>}
    </>
  );
}

function TimelineBody({ t }: { t: any }) {
  const ev: any[] = t.events || [];
  const rows = ev.map((e) => ({ day: (e.time || '').slice(0, 10), kind: e.kind, count: 1 })).filter((e) => e.day);
  const p = pivot(rows, 'kind');
  return (
    <>
      <p><ObjLink s={t.subject} /> · first seen {fmtTime(t.first_seen)} · last seen {fmtTime(t.last_seen)}</p>
      <TimeChart title="Events per day, by kind" days={p.days} series={p.series} bars />
      {ev.length === 0 ? <Empty what="No events." /> : (
        <ol class="timeline" id="timeline-events">
          {ev.map((e, i) => (
            <li key={i} class={'ev ev-' + e.kind}>
              <time>{fmtTime(e.time)}</time>
              <span class="chip">{e.kind}</span>
              {e.id ? <a href={href('/object/' + encodeURIComponent(e.id))}>{e.name || e.id}</a> : <span>{e.name}</span>}
              {e.detail && <span class="muted small"> {typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail)}</span>}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
