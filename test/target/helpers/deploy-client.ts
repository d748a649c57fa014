/** A small JSON client for deployment tests, over one undici Agent. */
import { Agent, request } from 'undici';

export interface JsonResponse {
  readonly status: number;
  readonly instance: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

/** Enough sockets that 200 concurrent requests really are concurrent. */
export const testAgent = new Agent({ connections: 256 });

/** Sends `body` as JSON (with a bearer token when given) and parses the JSON answer. */
export async function call(baseUrl: string, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<JsonResponse> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await request(`${baseUrl}${path}`, {
    method: method as 'GET',
    headers,
    dispatcher: testAgent,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    instance: String(res.headers['x-instance-id']),
    headers: res.headers,
    body: text === '' ? null : (JSON.parse(text) as unknown),
  };
}

/** Creates a user and returns its token. */
export async function createUser(baseUrl: string, username: string): Promise<{ id: string; token: string }> {
  const res = await call(baseUrl, 'POST', '/users', { body: { username } });
  if (res.status !== 201) throw new Error(`POST /users ${username} -> ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; token: string };
}
