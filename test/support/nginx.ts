/**
 * Debian's nginx as a round-robin load balancer on loopback, run as a child process with a
 * throwaway prefix directory, stopped (and the directory deleted) by `stop()`.
 *
 * A minimal helper for the session tests; its shape follows the shared one being added to
 * `test/support/system.ts` (`startNginx({ port, upstreams })`).
 *
 * @example
 * ```ts
 * const nginx = await startNginx({ upstreams: [a.port, b.port, c.port] });
 * try { await fetch(`${nginx.url}/claims`); } finally { await nginx.stop(); }
 * ```
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

/** `false` when nginx is installed, else the reason to skip (with the install line). */
export const nginxSkip: string | false = (() => {
  try {
    accessSync(NGINX, constants.X_OK);
    return false;
  } catch {
    return `${NGINX} is not installed; install it with: apt-get install -y nginx-light`;
  }
})();

export interface NginxServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A loopback port that was free a moment ago (for servers told their port up front). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) =>
    probe.close(() => {
      resolve();
    }),
  );
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/**
 * Runs nginx on 127.0.0.1:`port`, round-robin over `upstreams`, forwarding the Host header, with
 * room for the callback's ~6 KB of Set-Cookie headers, and never retrying a failed request on the
 * next instance (a failure must show).
 */
export async function startNginx(options: {
  readonly port?: number;
  readonly upstreams: readonly number[];
}): Promise<NginxServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'cognito-guard-nginx-'));
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream app {
${options.upstreams.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://app;
      proxy_set_header Host $http_host;
      proxy_buffer_size 16k;
      proxy_buffers 8 16k;
      proxy_busy_buffers_size 32k;
      proxy_next_upstream off;
    }
  }
}
`;
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, conf);
  const child = spawn(NGINX, ['-p', dir, '-e', join(dir, 'error.log'), '-c', confPath], {
    stdio: 'ignore',
  });
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) break;
    if (await accepts(port)) return { url: `http://127.0.0.1:${port}`, port, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let log = '';
  try {
    log = readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {
    // no log
  }
  await stop();
  throw new Error(`nginx did not start: ${log.slice(0, 500)}`);
}
