/**
 * The example app's home page, the same in every framework's example: links to each route and
 * the forms that POST to /refresh and /logout/everywhere. Plain HTML, no script (it also runs in Workers).
 */
export const HOME_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cognito-guard example</title></head><body><main><h1>cognito-guard example</h1>
<ul>
  <li><a href="/login">Log in</a></li>
  <li><a href="/claims">Claims</a></li>
  <li><a href="/admin">Admin (group admin)</a></li>
  <li><a href="/edit">Edit (group admin or editor)</a></li>
  <li><form method="post" action="/refresh"><button type="submit">Refresh tokens</button></form></li>
  <li><a href="/logout">Log out</a></li>
  <li><form method="post" action="/logout/everywhere"><button type="submit">Sign out everywhere</button></form></li>
</ul></main></body></html>`;
