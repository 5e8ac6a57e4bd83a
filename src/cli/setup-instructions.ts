/**
 * How to use a one-time setup link until the web console exists: the link carries the token in
 * its fragment (for the console's setup page); the API call it stands for is printed beside it.
 */
export function setupInstructions(setup: { link: string; expiresAt: Date }, apiBaseUrl: string): string {
  const token = new URL(setup.link).hash.replace(/^#token=/, '');
  return [
    `No platform operator yet: create the first one within 30 minutes (until ${setup.expiresAt.toISOString()}); the token works once:`,
    `    ${setup.link}`,
    '  With the API (the web console is not part of this release yet):',
    `    curl -k ${apiBaseUrl}/api/v1/auth/setup -H 'content-type: application/json' \\`,
    `      -d '{"token":"${token}","email":"you@example.eu","password":"<12 characters or more>"}'`,
    '  Then sign in (POST /api/v1/auth/login) and enrol a second factor: the operator guide walks through it.',
  ].join('\n');
}
