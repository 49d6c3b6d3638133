import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** An answer: HTTP status and JSON body; a body with `__type` is an AWS error, named in x-amzn-errortype too. */
export type AwsAnswer = [status: number, payload: object];

/**
 * A local endpoint speaking the AWS JSON 1.1 protocol the real SDKs send (X-Amz-Target names the operation,
 * SigV4 is ignored), for the test stand-ins of KMS and Secrets Manager. `answer` gets the target and the parsed
 * body; undefined drops the connection without an answer (a service that is down).
 */
export async function startAwsJsonEndpoint(answer: (target: string, body: Record<string, unknown>) => AwsAnswer | undefined) {
  const server = http.createServer((req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        /* answered as whatever the target makes of an empty body */
      }
      const answered = answer(target, body);
      if (!answered) {
        req.socket.destroy();
        return;
      }
      const [status, payload] = answered;
      const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
      const type = (payload as { __type?: string }).__type;
      if (type) headers['x-amzn-errortype'] = type;
      res.writeHead(status, headers).end(JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
