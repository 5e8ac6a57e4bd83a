// The baseline for the HTTPS benchmark: node:https alone, same certificate, same TLS floor,
// answering the same JSON as /healthz. What Savoir adds on top is the difference.
import https from 'node:https';

const [certFile, keyFile, port] = process.argv.slice(2);
const { readFileSync } = await import('node:fs');
const body = JSON.stringify({ status: 'ok' });
https
  .createServer({ cert: readFileSync(certFile!), key: readFileSync(keyFile!), minVersion: 'TLSv1.2' }, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  })
  .listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
