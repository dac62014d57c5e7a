/** Requests over node:http, for tests against a real server process. */
import http from "node:http";

export interface Reply {
  status: number;
  body: any;
  /** The client end of the connection the request went over. */
  localPort: number | undefined;
}

/** One request over node:http (so the agent, not a default pool, decides how many sockets there are). */
export function send(agent: http.Agent, base: string, method: string, path: string, token: string | null, body?: unknown): Promise<Reply> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: Number(url.port),
        path: `${url.pathname}${url.search}`,
        method,
        agent,
        headers: {
          ...(token && { authorization: `Bearer ${token}` }),
          ...(payload !== undefined && { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const localPort = res.socket?.localPort;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: keep the text for the failure message
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, localPort });
        });
      },
    );
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

