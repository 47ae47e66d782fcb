import { useRef, useState } from 'preact/hooks';
import { api, ApiError, Me } from '../api';

export function Login({ onLogin, notice }: { onLogin: (m: Me) => void; notice?: string }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needTotp, setNeedTotp] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true); setError('');
    try {
      const body: any = { user, password };
      if (totp) body.totp = totp;
      const m = await api<Me>('login', 'POST', body);
      onLogin(m);
    } catch (err) {
      const ae = err as ApiError;
      if (ae.body && ae.body.totp_required) {
        setNeedTotp(true);
        setError(totp ? 'The code is wrong or expired: enter the current one.' : 'This account needs the code from its authenticator app.');
        setTimeout(() => totpRef.current?.focus());
      } else if (ae.status === 429) setError('Too many attempts: wait a moment and try again. ' + (ae.message || ''));
      else setError(ae.message || 'Login failed.');
    } finally { setBusy(false); }
  };

  return (
    <div class="login">
      <h1>Log in to the schakel console</h1>
      {notice && <p class="notice" role="status">{notice}</p>}
      <form onSubmit={submit} class="stack" aria-describedby={error ? 'login-error' : undefined}>
        <label>User
          <input name="user" id="login-user" autocomplete="username" required value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} autoFocus />
        </label>
        <label>Password
          <input name="password" id="login-password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <label>Second factor (TOTP code){needTotp ? '' : ', if enrolled'}
          <input name="totp" id="login-totp" ref={totpRef} inputMode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxLength={6} required={needTotp}
            value={totp} onInput={(e) => setTotp((e.target as HTMLInputElement).value)} />
        </label>
        {error && <p class="error" id="login-error" role="alert">{error}</p>}
        <button type="submit" class="primary" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
      </form>
      <p class="muted small">Partners see what TAXII gives them; the node's own people see what the node holds. Scripts can use the same API with TAXII credentials.</p>
    </div>
  );
}
