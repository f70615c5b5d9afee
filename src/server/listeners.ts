/** Listening and draining, for the API listener and the metrics listener alike. */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Every connection of a server, with the answers it still owes. Node's own
 * closeAllConnections() knows only the sockets that still have an HTTP parser: a socket answered by
 * the 'clientError' handler, or handed to the 'connect' and 'upgrade' handlers, has none, and with
 * half-open connections allowed it stays open as long as its client keeps it open, and with it
 * server.close(). Draining therefore ends the connections itself.
 */
interface Connections {
  readonly inFlight: Map<Socket, Set<ServerResponse>>;
  draining: boolean;
}

const connectionsOf = new WeakMap<Server, Connections>();

function track(server: Server): Connections {
  const known = connectionsOf.get(server);
  if (known) return known;
  const connections: Connections = { inFlight: new Map(), draining: false };
  connectionsOf.set(server, connections);
  server.on('connection', (socket: Socket) => {
    connections.inFlight.set(socket, new Set());
    socket.once('close', () => connections.inFlight.delete(socket));
  });
  server.on('request', (req, res) => {
    const owed = connections.inFlight.get(req.socket);
    if (!owed) return;
    owed.add(res);
    // An answer given while draining is the connection's last.
    if (connections.draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      owed.delete(res);
      if (connections.draining && owed.size === 0) req.socket.end();
    });
  });
  return connections;
}

/** Listens on `host:port` and answers the URL it listens on. */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

/**
 * Stops accepting, lets the requests in flight finish (up to `graceMs`), and ends every connection:
 * at once those without a request in flight, each other one after its last answer, and whatever is
 * left when the grace runs out.
 */
export function drain(server: Server, graceMs: number): Promise<void> {
  const connections = track(server);
  connections.draining = true;
  return new Promise<void>((resolve) => {
    const destroy = (busy: boolean) => {
      for (const [socket, owed] of connections.inFlight) if (busy || owed.size === 0) socket.destroy();
    };
    for (const owed of connections.inFlight.values()) for (const res of owed) res.shouldKeepAlive = false;
    const force = setTimeout(() => {
      server.closeAllConnections();
      destroy(true);
    }, graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
    destroy(false);
  });
}
