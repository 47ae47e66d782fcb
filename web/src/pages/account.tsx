// The logged-in account: its second factor (TOTP, RFC 6238) enrolled,
// confirmed with a first code, or turned off with a current one.
import { useState } from 'preact/hooks';
import { api, Me } from '../api';
import { ErrorBox } from '../ui';

export function AccountPage({ me, onChange }: { me: Me; onChange: () => void }) {
  const [enrol, setEnrol] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<any>(null);
  const [done, setDone] = useState('');
  const run = async (f: () => Promise<any>, ok: string) => {
    setError(null); setDone('');
    try { await f(); setDone(ok); setCode(''); onChange(); return true; } catch (e) { setError(e); return false; }
  };
  const codeField = (
    <label>Current code from the authenticator app
      <input name="code" id="totp-code" inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required
        value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
    </label>
  );
  return (
    <>
      <h1>Your account</h1>
      <dl class="kv">
        <dt>Account</dt><dd>{me.account}</dd>
        <dt>Role</dt><dd>{me.partner ? `partner account of ${me.partner}` : me.role}</dd>
        <dt>Second factor</dt><dd id="totp-state">{me.totp ? 'on' : 'off'}</dd>
      </dl>
      {done && <p class="notice" role="status">{done}</p>}
      <ErrorBox error={error} />
      {!me.totp && !enrol && (
        <p><button type="button" id="totp-enrol" onClick={async () => {
          setError(null);
          try { setEnrol(await api('totp/enroll', 'POST', {})); } catch (e) { setError(e); }
        }}>Set up a second factor</button></p>
      )}
      {!me.totp && enrol && (
        <form class="stack form" onSubmit={async (e) => { e.preventDefault(); if (await run(() => api('totp/confirm', 'POST', { code }), 'The second factor is on: the login asks for its code from now on.')) setEnrol(null); }}>
          <p>Add this secret to an authenticator app (shown once), then confirm with its first code.</p>
          <p><code class="mono" id="totp-secret">{enrol.secret}</code></p>
          <p class="small mono" style={{ overflowWrap: 'anywhere' }}>{enrol.uri}</p>
          {codeField}
          <div class="actions"><button type="submit" class="primary">Confirm</button></div>
        </form>
      )}
      {me.totp && (
        <form class="stack form" onSubmit={(e) => { e.preventDefault(); run(() => api('totp/disable', 'POST', { code }), 'The second factor is off.'); }}>
          {codeField}
          <div class="actions"><button type="submit" class="danger">Turn the second factor off</button></div>
        </form>
      )}
    </>
  );
}
