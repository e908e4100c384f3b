/** Home: the home page of every example (examples/shared/home.ts), plus /profile; plain links (no `<Link>`: a prefetch of /login or /logout must not start a flow). */
export default function Home() {
  return (
    <main>
      <h1>cognito-guard example</h1>
      <ul>
        <li>
          <a href="/login">Log in</a>
        </li>
        <li>
          <a href="/claims">Claims</a>
        </li>
        <li>
          <a href="/profile">Profile (a Server Component)</a>
        </li>
        <li>
          <a href="/admin">Admin (group admin)</a>
        </li>
        <li>
          <a href="/edit">Edit (group admin or editor)</a>
        </li>
        <li>
          <form method="post" action="/refresh">
            <button type="submit">Refresh tokens</button>
          </form>
        </li>
        <li>
          <a href="/logout">Log out</a>
        </li>
        <li>
          <form method="post" action="/logout/everywhere">
            <button type="submit">Sign out everywhere</button>
          </form>
        </li>
      </ul>
    </main>
  );
}
