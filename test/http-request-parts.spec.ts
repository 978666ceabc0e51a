import { strict as assert } from "node:assert";
import type { IncomingMessage } from "node:http";
import { basicCredentials, parseCookies } from "../src/nodes/core/http-request-parts";

const request = (headers: Record<string, string>): IncomingMessage & { cookies?: Record<string, string> } =>
  ({ headers }) as unknown as IncomingMessage;

describe("HTTP request parts for Node-RED's HTTP security (core)", function () {
  it("reads the user and password of a Basic Authorization header, a colon in the password included", function () {
    const header = `Basic ${Buffer.from("admin:pa:ss").toString("base64")}`;
    assert.deepEqual(basicCredentials(request({ authorization: header })), { name: "admin", pass: "pa:ss" });
    assert.equal(basicCredentials(request({ authorization: "Bearer abc" })), undefined);
    assert.equal(
      basicCredentials(request({ authorization: `Basic ${Buffer.from("nocolon").toString("base64")}` })),
      undefined,
    );
    assert.equal(basicCredentials(request({})), undefined);
  });

  it("sets req.cookies as cookie-parser does: decoded, quotes removed, the first of a repeated name kept", function () {
    const req = request({ cookie: 'session=a%20b; theme="dark"; session=second; bad=%E0%A4%A; =x' });
    let called = false;
    parseCookies(req, undefined, () => (called = true));
    assert.ok(called);
    assert.deepEqual({ ...req.cookies }, { session: "a b", theme: "dark", bad: "%E0%A4%A" });
  });
});
