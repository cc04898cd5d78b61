/**
 * A real HTTP receiver for the webhook tests, in Node (vitest's global setup), on 127.0.0.1 with
 * a free port: the Worker inside workerd delivers to it over real HTTP. It verifies each
 * delivery's signature with the Standard Webhooks library, with the secret a test registered for
 * that receiver name, and records what it got.
 *
 *   POST /hooks/<name>/<behaviour>   a delivery; behaviour: ok (204), fail (500), slow (answers
 *                                    after 3 s), flaky (500 the first time, then 204),
 *                                    redirect (302 to this receiver's ok)
 *   PUT  /secrets/<name>             body: the endpoint's secret
 *   GET  /received/<name>            what <name> received: [{behaviour, headers, body, verified}]
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { TestProject } from "vitest/node";

interface Received {
  behaviour: string;
  headers: Record<string, string>;
  body: string;
  verified: boolean;
  error?: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    webhookReceiver: string;
  }
}

export default async function setup(project: TestProject) {
  const secrets = new Map<string, string>();
  const received = new Map<string, Received[]>();
  const seen = new Set<string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const [, kind = "", name = "", behaviour = "ok"] = (req.url ?? "").split("/");
      if (kind === "secrets" && req.method === "PUT") {
        secrets.set(name, body);
        res.writeHead(204).end();
        return;
      }
      if (kind === "received" && req.method === "GET") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(received.get(name) ?? []));
        return;
      }
      if (kind !== "hooks") {
        res.writeHead(404).end();
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(",") : (v ?? ""),
        ]),
      );
      const entry: Received = { behaviour, headers, body, verified: false };
      try {
        new Webhook(secrets.get(name) ?? "whsec_bm9uZQ==").verify(body, headers);
        entry.verified = true;
      } catch (err) {
        entry.error = String(err);
      }
      received.set(name, [...(received.get(name) ?? []), entry]);
      const first = !seen.has(`${name}:${headers["webhook-id"]}`);
      seen.add(`${name}:${headers["webhook-id"]}`);
      if (behaviour === "fail" || (behaviour === "flaky" && first)) res.writeHead(500).end("no");
      else if (behaviour === "redirect") {
        res.writeHead(302, { location: `/hooks/${name}/ok` }).end();
      } else if (behaviour === "slow") setTimeout(() => res.writeHead(204).end(), 3_000);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  project.provide("webhookReceiver", `http://127.0.0.1:${port}`);
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}
