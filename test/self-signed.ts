// A throw-away self-signed certificate for the TLS tests (openssl, in a temporary directory).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SelfSigned {
  /** The PEM files, for settings that take paths (a tls-config node). */
  keyFile: string;
  certFile: string;
  /** Their PEM texts, for settings that take the contents (settings.js `https`). */
  key: string;
  cert: string;
  /** Removes the directory. */
  remove(): void;
}

/** A new RSA key and a certificate for CN=localhost and 127.0.0.1, valid for a day. */
export function selfSigned(): SelfSigned {
  const dir = mkdtempSync(join(tmpdir(), "socket-io-tls-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  execFileSync(
    "openssl",
    // prettier-ignore
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", keyFile, "-out", certFile],
    { stdio: "ignore", timeout: 20_000 },
  );
  return {
    keyFile,
    certFile,
    key: readFileSync(keyFile, "utf8"),
    cert: readFileSync(certFile, "utf8"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
