import http from 'node:http';

/**
 * Plain HTTP only redirects to HTTPS. The target origin comes from configuration, never from the
 * request's Host header, so the redirect cannot be turned into an open redirect.
 */
export function createRedirectServer(publicUrl: string): http.Server {
  const origin = new URL(publicUrl).origin;
  return http.createServer((request, response) => {
    const target = `${origin}${request.url?.startsWith('/') ? request.url : '/'}`;
    response.writeHead(308, { location: target, 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    response.end(`Savoir is served over HTTPS: ${target}\n`);
  });
}
