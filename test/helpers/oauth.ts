import type { TestApp } from './app.js';

/** The token endpoint suites' shared setup; `app` returns the suite's running app. */
export function tokenFixtures(app: () => TestApp) {
  const token = (payload: string | object, headers: Record<string, string> = {}) =>
    app().inject({
      method: 'POST',
      url: '/oauth2/token',
      payload,
      headers: typeof payload === 'string' ? { 'content-type': 'application/x-www-form-urlencoded', ...headers } : headers,
    });

  return { token };
}
