import * as http from "node:http";
import * as https from "node:https";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** @default 10000 */
  timeoutMs?: number;
}

/**
 * One request without keep-alive (so no connection outlives the test), redirects not followed;
 * https accepts any certificate (tests use self-signed ones).
 */
export function request(url: string, init: RequestInit = {}): Promise<HttpAnswer> {
  const lib = url.startsWith("https:") ? https : http;
  const timeout = init.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      { method: init.method ?? "GET", headers: init.headers, agent: false, rejectUnauthorized: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.setTimeout(timeout, () => req.destroy(new Error(`no answer from ${url} within ${timeout} ms`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

/** A plain GET, answered within 3 s. */
export function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return request(url, { headers, timeoutMs: 3000 });
}
