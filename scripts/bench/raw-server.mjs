// Baseline for the ingest benchmark: a bare node:http server that reads the
// body, runs JSON.parse and replies with a small JSON object. It stores nothing.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 0);

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
    return;
  }
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let accepted = 0;
    try {
      accepted = JSON.parse(Buffer.concat(chunks).toString('utf8')).events.length;
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"code":"invalid_json"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ accepted, duplicates: 0 }));
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(JSON.stringify({ listening: server.address().port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
