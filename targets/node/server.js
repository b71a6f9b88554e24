// A minimal application on Node's http and https servers for protospec's
// http1 suite: what is judged is Node's HTTP/1.1 (llhttp and the http
// module), so the application does no more than the fixture needs.
//
//   node server.js DOCROOT PLAIN_PORT TLS_PORT CERT KEY
//
// GET and HEAD serve files of DOCROOT (index.html for a directory);
// /redirect answers 301 to /hello.txt; /echo answers any method with the
// request content it read (decoded by Node); other methods get 405.
'use strict';
const fs = require('fs');
const path = require('path');
const http = require('http');
const https = require('https');

const [docroot, plainPort, tlsPort, cert, key] = process.argv.slice(2);
const types = { '.html': 'text/html', '.txt': 'text/plain', '.bin': 'application/octet-stream' };
const maxEcho = 1 << 20;

function send(res, status, type, body) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function handle(req, res) {
  // Node hands the request-target over as sent: an absolute-form target
  // is reduced to its path here.
  let target = req.url;
  if (/^https?:\/\//i.test(target)) {
    try { target = new URL(target).pathname; } catch (e) { send(res, 400, 'text/plain', 'bad request\n'); return; }
  }
  const url = target.split('?')[0];
  if (url === '/echo') {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > maxEcho) { send(res, 413, 'text/plain', 'too large\n'); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      if (n <= maxEcho) send(res, 200, 'application/octet-stream', Buffer.concat(chunks));
    });
    return;
  }
  if (url === '/redirect') {
    res.setHeader('Location', '/hello.txt');
    send(res, 301, 'text/plain', 'moved to /hello.txt\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    send(res, 405, 'text/plain', 'method not allowed\n');
    return;
  }
  let rel;
  try { rel = decodeURIComponent(url); } catch (e) { send(res, 400, 'text/plain', 'bad request\n'); return; }
  let file = path.join(docroot, path.normalize('/' + rel));
  if (rel.includes('\0') || !file.startsWith(docroot)) { send(res, 404, 'text/plain', 'not found\n'); return; }
  fs.stat(file, (err, st) => {
    if (!err && st.isDirectory()) {
      if (!url.endsWith('/')) {
        res.writeHead(301, { 'Location': url + '/', 'Content-Length': 0 });
        res.end();
        return;
      }
      file = path.join(file, 'index.html');
    }
    fs.readFile(file, (err, data) => {
      if (err) { send(res, 404, 'text/plain', 'not found\n'); return; }
      res.writeHead(200, { 'Content-Type': types[path.extname(file)] || 'application/octet-stream', 'Content-Length': data.length });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  });
}

// guarded answers 500 where the application throws, rather than letting
// the process die.
function guarded(req, res) {
  try {
    handle(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
  }
}

http.createServer(guarded).listen(Number(plainPort), '127.0.0.1');
https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, guarded).listen(Number(tlsPort), '127.0.0.1');
