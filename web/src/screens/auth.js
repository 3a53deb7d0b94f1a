// Sign-up, e-mail verification and log-in (`/api/auth/...`). The only screens without a session.
//
// Sign-up answers the same for any address; with verification on (`EMAIL_VERIFICATION`, the
// default) the account logs in only after the mailed link was followed. The console tries to log
// in right after signing up: that works when verification is off, and otherwise leads to the
// "check your mailbox" step, where the mailed link (or its token) can also be pasted.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { navigate } from '../router.js';
import { login, useSession } from '../session.js';
import { Loading } from '../ui/feedback.js';
import { Field, Form } from '../ui/form.js';
import { Page } from '../ui/layout.js';

/** A place to go back to after logging in: a path of the console, never another site. */
function safeNext(query) {
  const next = query.get('next') || '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function LoginScreen({ query }) {
  const { ended } = useSession();
  const verified = query.get('verified');
  const submit = async ({ email, password }) => {
    await login(email, password);
    navigate(safeNext(query), { replace: true });
  };
  return html`<${Page} title="Log in">
    ${verified && html`<p class="notice notice-success" role="status">Your e-mail address is verified: log in.</p>`}
    ${ended && !verified && html`<p class="notice" role="status">${ended}</p>`}
    <${Form} label="Log in" initial=${{ email: query.get('email') || '', password: '' }} submitLabel="Log in" onSubmit=${submit}>
      <${Field} name="email" label="E-mail" type="email" autocomplete="username" required autofocus=${!query.get('email')} />
      <${Field} name="password" label="Password" type="password" autocomplete="current-password" required autofocus=${Boolean(query.get('email'))} />
    <//>
    <p class="alt">New here? <a href="/signup">Create an account</a></p>
  <//>`;
}

function SignupScreen() {
  const submit = async (values) => {
    const body = { ...values, lastName: values.lastName.trim() || undefined };
    await api.post('/api/auth/signup', body);
    try {
      await login(values.email, values.password);
      navigate('/', { replace: true });
    } catch {
      // Verification pending (or the address had an account already): the mailed link says what next.
      navigate(`/verify?email=${encodeURIComponent(values.email.trim())}`);
    }
  };
  return html`<${Page} title="Create your account">
    <${Form}
      label="Create your account"
      initial=${{ firstName: '', lastName: '', email: '', password: '' }}
      submitLabel="Sign up"
      busyLabel="Creating your account…"
      onSubmit=${submit}
    >
      <div class="field-row">
        <${Field} name="firstName" label="First name" autocomplete="given-name" required maxLength=${32} autofocus />
        <${Field} name="lastName" label="Last name" autocomplete="family-name" maxLength=${32} />
      </div>
      <${Field} name="email" label="E-mail" type="email" autocomplete="email" required />
      <${Field}
        name="password"
        label="Password"
        type="password"
        autocomplete="new-password"
        required
        minLength=${8}
        hint="At least 8 characters; not your e-mail address, not a common password."
      />
    <//>
    <p class="alt">Have an account? <a href="/login">Log in</a></p>
  <//>`;
}

/** The token of a pasted verification link, or what was pasted when it is no link. */
function tokenOf(text) {
  const value = text.trim();
  try {
    return new URL(value).searchParams.get('token') || value;
  } catch {
    return value;
  }
}

function VerifyScreen({ query }) {
  const email = query.get('email') || '';
  const linkToken = query.get('token');
  const [auto, setAuto] = useState(linkToken ? 'busy' : null);
  const done = () => navigate(`/login?verified=1&email=${encodeURIComponent(email)}`, { replace: true });
  const verify = async ({ token }) => {
    await api.post('/api/auth/verify', { token: tokenOf(token) });
    done();
  };
  useEffect(() => {
    if (linkToken) verify({ token: linkToken }).catch((error) => setAuto(error.message));
  }, [linkToken]);
  if (auto === 'busy') return html`<${Loading} label="Verifying your e-mail address…" />`;
  return html`<${Page} title="Check your mailbox">
    <p>
      We sent a link to ${email ? html`<strong>${email}</strong>` : 'your address'} to finish the sign-up. Follow it
      (it works once and expires after a while), then log in. Or paste the link here:
    </p>
    ${auto && html`<p class="notice notice-error" role="alert">${auto}</p>`}
    <${Form} label="Verify your e-mail address" initial=${{ token: '' }} submitLabel="Verify" onSubmit=${verify}>
      <${Field} name="token" label="Link from the mail" required autocomplete="off" hint="The whole link, or the token after token=." />
    <//>
    <p class="alt">Verified already? <a href=${`/login${email ? `?email=${encodeURIComponent(email)}` : ''}`}>Log in</a></p>
  <//>`;
}

export const routes = [
  { path: '/login', view: LoginScreen, title: 'Log in', access: 'guest' },
  { path: '/signup', view: SignupScreen, title: 'Sign up', access: 'guest' },
  { path: '/verify', view: VerifyScreen, title: 'Verify your e-mail address', access: 'guest' },
];
