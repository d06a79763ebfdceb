// What a typical stack does: a Node.js relay on the `ws` package. `GET /ws?pair=N` joins the
// first two sockets that name the same pair; every text frame one sends goes to the other.
// Usage: node relay.js PORT
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 9002);
const pairs = new Map(); // pair id -> [socket, socket?]

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024 });

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname !== '/ws') {
    socket.destroy();
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => join(ws, url.searchParams.get('pair') || '0'));
});

function join(ws, pair) {
  let list = pairs.get(pair);
  if (!list) {
    list = [];
    pairs.set(pair, list);
  }
  const me = list.length;
  list.push(ws);
  let peer = null;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    if (!peer) peer = list[1 - Math.min(me, 1)] || null;
    if (peer && peer.readyState === 1) peer.send(data, { binary: false });
  });
  ws.on('close', () => pairs.delete(pair));
  ws.on('error', () => {});
}

server.listen(port, '127.0.0.1', () => console.log(`node ws relay on ${port}`));
