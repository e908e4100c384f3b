/**
 * The hosted UI's HTML: a sign-in form and an error page. Self-contained (inline CSS, no scripts,
 * no external assets) so it works offline and under a strict CSP, and every echoed value is
 * escaped because the query string that fills it is attacker-controlled.
 */

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** The headers every emulator HTML page carries. */
export const HTML_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No form-action: browsers apply it to the redirect that follows the POST, i.e. the app.
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

const STYLE = `
body{font-family:system-ui,sans-serif;background:#f2f3f3;margin:0;display:flex;justify-content:center}
code{word-break:break-all}
main{background:#fff;margin-top:8vh;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0003;width:min(22rem,90vw)}
h1{font-size:1.3rem;margin-top:0}
label{display:block;margin-top:1rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;margin-top:.25rem;font-size:1rem}
button{margin-top:1.5rem;width:100%;padding:.6rem;font-size:1rem;background:#ec7211;color:#fff;border:0;border-radius:4px;cursor:pointer}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px;margin:0}
.note{color:#555;font-size:.85rem;margin-top:1.5rem}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/** What the sign-in form shows. */
export interface LoginPageOptions {
  /** The form's action, `/login?<authorize parameters>`. */
  readonly action: string;
  readonly csrfToken: string;
  /** Prefill (from `login_hint` or the previous attempt). */
  readonly username?: string | undefined;
  readonly error?: string | undefined;
  readonly poolId: string;
}

/**
 * The sign-in form: fields `username` and `password`, a CSRF token, and an error in a
 * `role="alert"` region that never says whether the user exists.
 */
export function renderLoginPage(options: LoginPageOptions): string {
  const error = options.error
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(options.error)}</p>\n`
    : '';
  const described = options.error ? ' aria-describedby="login-error"' : '';
  return page(
    'Sign in',
    `<h1>Sign in with your username and password</h1>
${error}<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="_csrf" value="${escapeHtml(options.csrfToken)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${escapeHtml(options.username ?? '')}"${described}${options.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${options.username ? ' autofocus' : ''}>
<button type="submit" name="signInSubmitButton">Sign in</button>
</form>
<p class="note">Local Cognito emulator · user pool ${escapeHtml(options.poolId)}</p>`,
  );
}

/** What the change-password form (for a user with a temporary password) shows. */
export interface NewPasswordPageOptions {
  /** The form's action, `/login?<authorize parameters>`. */
  readonly action: string;
  readonly csrfToken: string;
  /** The pending challenge's opaque id. */
  readonly challenge: string;
  readonly username: string;
  readonly error?: string | undefined;
  readonly poolId: string;
}

/**
 * The hosted UI's "Change password" step: a user created with a temporary password (Cognito's
 * FORCE_CHANGE_PASSWORD) chooses their own before the sign-in completes.
 */
export function renderNewPasswordPage(options: NewPasswordPageOptions): string {
  const error = options.error
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(options.error)}</p>\n`
    : '';
  return page(
    'Change password',
    `<h1>Change password</h1>
<p>Hello ${escapeHtml(options.username)}, please enter a new password.</p>
${error}<form method="post" action="${escapeHtml(options.action)}">
<input type="hidden" name="_csrf" value="${escapeHtml(options.csrfToken)}">
<input type="hidden" name="_challenge" value="${escapeHtml(options.challenge)}">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" required autofocus>
<button type="submit" name="changePasswordSubmitButton">Send</button>
</form>
<p class="note">Local Cognito emulator · user pool ${escapeHtml(options.poolId)}</p>`,
  );
}

/** A refused callback or sign-out URL and what the client registers instead. */
export interface RefusedUrlDetails {
  readonly parameter: 'redirect_uri' | 'logout_uri';
  readonly refused: string;
  readonly clientId: string;
  readonly kind: 'callback' | 'sign-out';
  readonly registered: readonly string[];
  readonly anyLoopbackPort: boolean;
}

function refusedUrlSection(details: RefusedUrlDetails): string {
  const list =
    details.registered.length === 0
      ? '<p>It registers none.</p>'
      : `<ul>\n${details.registered.map((url) => `<li><code>${escapeHtml(url)}</code></li>`).join('\n')}\n</ul>`;
  const loopback = details.anyLoopbackPort
    ? '\n<p class="note">Plain-http loopback URLs also match on any port for this client.</p>'
    : '';
  return `
<p>Refused <code>${escapeHtml(details.parameter)}</code>: <code id="refused-url">${escapeHtml(details.refused)}</code></p>
<p>App client <code>${escapeHtml(details.clientId)}</code> registers these ${details.kind} URLs (matched exactly, a trailing slash and the port count):</p>
${list}${loopback}`;
}

/**
 * Cognito's error page: a message, never a redirect to an unvalidated URI. With `details` it also
 * names a refused callback or sign-out URL and the registered ones (every value escaped).
 */
export function renderErrorPage(message: string, details?: RefusedUrlDetails): string {
  return page(
    'An error was encountered',
    `<h1>An error was encountered with the requested page.</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>${details ? refusedUrlSection(details) : ''}`,
  );
}
