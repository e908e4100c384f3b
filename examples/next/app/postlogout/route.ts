/** Cognito redirects here after logout (AWS_COGNITO_LOGOUT_URL). */
export function GET(): Response {
  return new Response(null, { status: 302, headers: { location: '/' } });
}
