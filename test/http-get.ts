import * as http from "node:http";
import * as https from "node:https";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain GET without keep-alive (so no connection outlives the test); https accepts any certificate. */
export function get(url: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const request = url.startsWith("https:") ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false, rejectUnauthorized: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer from ${url} within 3000 ms`)));
    req.on("error", reject);
  });
}
