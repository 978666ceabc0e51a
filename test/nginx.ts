// A private nginx (Debian's) for the reverse-proxy tests: its own process on a free port, with a
// generated config and every file it writes (pid, logs, temp paths) in a temporary directory.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { freePort, waitListening } from "./ports";
import { underCi } from "./redis-ping";

/** Debian's nginx (`apt-get install -y nginx`); the system service is never used. */
export const NGINX = "/usr/sbin/nginx";

export interface Nginx {
  port: number;
  /** http://127.0.0.1:port, or https:// with `tls` */
  url: string;
  /** The access log so far, one request a line: `<status> <request line>`. */
  requests(): string[];
  /** The error log so far. */
  errors(): string;
  /** Stops the process (fast shutdown, SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

let warned = false;

/**
 * Call inside a `describe`: its tests need nginx. Without it, under CI the suite fails (CI must run
 * these tests); elsewhere it is skipped with one loud line saying how to install it.
 */
export function needsNginx(): void {
  before(function () {
    if (existsSync(NGINX) && spawnSync(NGINX, ["-v"]).status === 0) return;
    const missing = `there is no nginx at ${NGINX} (apt-get install -y nginx)`;
    if (underCi()) throw new Error(`the reverse-proxy tests must run under CI, but ${missing}`);
    if (!warned) {
      warned = true;
      console.log(
        `\n  !!!!! SKIPPING THE NGINX REVERSE-PROXY TESTS: ${missing}. Under CI=true they fail instead. !!!!!\n`,
      );
    }
    this.skip();
  });
}

/**
 * The `map` (in `http {}`) that the WebSocket locations' `Connection $connection_upgrade` needs, as
 * nginx's WebSocket guide has it: "upgrade" when the client asks for one, "close" otherwise.
 */
export const UPGRADE_MAP = `map $http_upgrade $connection_upgrade {
  default upgrade;
  '' close;
}`;

/** A certificate for nginx to terminate TLS with: the paths of its PEM files. */
export interface NginxTls {
  certFile: string;
  keyFile: string;
}

/** The nginx.conf of a private nginx on `port` whose one server holds `locations`. */
function config(dir: string, port: number, locations: string, tls?: NginxTls): string {
  // As root, nginx would run its workers as "nobody", who cannot enter the 0700 temp dir.
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : "";
  const listen = tls
    ? `listen 127.0.0.1:${port} ssl;\n    ssl_certificate ${tls.certFile};\n    ssl_certificate_key ${tls.keyFile};`
    : `listen 127.0.0.1:${port};`;
  return `${user}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events { worker_connections 256; }
http {
  log_format proxied '$status $request';
  access_log ${dir}/access.log proxied;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${UPGRADE_MAP.replace(/^/gm, "  ")}
  server {
    ${listen}
${locations}
  }
}
`;
}

/**
 * Starts nginx with `locations` (one or more `location` blocks) and resolves once it listens; with
 * `tls` it serves https and passes plain http to the locations' upstreams.
 */
export async function startNginx(locations: string, tls?: NginxTls): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "nginx-"));
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, config(dir, port, locations, tls));
  // -e: the error log before the config is read (else nginx tries /var/log/nginx/error.log first).
  const proc = spawn(NGINX, ["-p", dir, "-c", conf, "-e", join(dir, "error.log"), "-g", "daemon off;"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const read = (file: string): string => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), "utf8") : "");
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitListening(port, 10_000),
      exited.then(() => {
        throw new Error("nginx exited");
      }),
    ]);
  } catch (err) {
    const why = `${(err as Error).message}\n${out}${read("error.log")}`;
    await stop();
    throw new Error(`nginx did not start on port ${port}: ${why}`);
  }
  return {
    port,
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests: () => read("access.log").split("\n").filter(Boolean),
    errors: () => read("error.log"),
    stop,
  };
}
